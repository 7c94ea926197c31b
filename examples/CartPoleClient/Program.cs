using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using RLAgents.Environments;
using RLAgents.Serving.Grpc;

// Plays CartPole-v1 episodes here, the policy answering over gRPC from `rlagents serve`:
//   rlagents serve runs/cartpole-ppo-… --port 8080          (gRPC on 8081)
//   dotnet run --project examples/CartPoleClient -- --server http://127.0.0.1:8081 --episodes 3 --seed 0
// One session stream per episode: send the observation, read the action, step the env, repeat.

string server = "http://127.0.0.1:8081";
int episodes = 1;
long seed = 0;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--server" when i + 1 < args.Length: server = args[++i]; break;
        case "--episodes" when i + 1 < args.Length: episodes = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--seed" when i + 1 < args.Length: seed = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine($"error: unknown argument '{args[i]}' (use --server URL, --episodes N, --seed S)");
            return 2;
    }
}

using var channel = GrpcChannel.ForAddress(server);
var client = new PolicyService.PolicyServiceClient(channel);
using var env = EnvRegistry.CreateDefault().Make("CartPole-v1");
try
{
    for (int episode = 0; episode < episodes; episode++)
    {
        var obs = env.Reset(seed + episode).Observation;
        using var session = client.Session();
        var latencies = new List<double>();
        double total = 0;
        int steps = 0;
        while (true)
        {
            var request = new ActRequest();
            var observation = new RLAgents.Serving.Grpc.Observation();
            var state = new FloatValues();
            state.Values.Add(obs.Floats("state").ToArray());
            observation.Modalities["state"] = new ModalityValue { Floats = state };
            request.Observations.Add(observation);
            long start = Stopwatch.GetTimestamp();
            await session.RequestStream.WriteAsync(request);
            if (!await session.ResponseStream.MoveNext(CancellationToken.None)) throw new InvalidOperationException("the server ended the session");
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            var step = env.Step(session.ResponseStream.Current.Actions[0]);
            total += step.Reward;
            steps++;
            if (step.Done) break;
            obs = step.Observation;
        }
        await session.RequestStream.CompleteAsync();
        latencies.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"episode {episode}: return {total}, {steps} steps, round trip p50 {latencies[latencies.Count / 2]:F0} µs"));
    }
}
catch (RpcException e)
{
    Console.Error.WriteLine($"error: {server}: {e.Status.StatusCode}: {e.Status.Detail}");
    return 1;
}
return 0;
