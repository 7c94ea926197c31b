using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Serving;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents serve &lt;run dir|checkpoint|policy.onnx&gt; [--port P] [--backend torch|onnx]</c>: a real-time
/// policy server on Kestrel (HTTP/JSON, gRPC, Prometheus metrics; see <see cref="PolicyServer"/>) until Ctrl+C.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(IServiceProvider services)
    {
        var model = new Argument<string>("model") { Description = "A run directory (its latest checkpoint), a checkpoint (.safetensors), or a policy exported with 'rlagents export' (.onnx)." };
        var port = new Option<int>("--port") { Description = "TCP port for HTTP/JSON, health and metrics (0 picks a free one).", DefaultValueFactory = _ => 8080 };
        var grpcPort = new Option<int?>("--grpc-port") { Description = "TCP port for gRPC (HTTP/2 without TLS needs its own port). Default: --port + 1." };
        var host = new Option<string>("--host") { Description = "Address to listen on (loopback by default).", DefaultValueFactory = _ => "127.0.0.1" };
        var backend = new Option<string?>("--backend") { Description = "torch (TorchSharp; checkpoints only) or onnx (ONNX Runtime). Default: torch for checkpoints, onnx for .onnx files." };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most observations per backend call; 1 turns dynamic batching off.", DefaultValueFactory = _ => 64 };
        var delay = new Option<int>("--max-queue-delay-us") { Description = "Microseconds the batcher waits for more requests after the first (0: none).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads of the backend.", DefaultValueFactory = _ => 1 };
        var command = new Command("serve", "Serve a trained policy over HTTP/JSON (POST /v1/act) and gRPC, with dynamic batching, health, readiness and Prometheus metrics.")
            { model, port, grpcPort, host, backend, maxBatch, delay, threads };
        command.SetAction(async (parse, cancellation) =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string path = parse.GetValue(model)!;
            var kind = parse.GetValue(backend) switch
            {
                null => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? BackendKind.Onnx : BackendKind.Torch,
                "torch" => BackendKind.Torch,
                "onnx" => BackendKind.Onnx,
                var other => throw new UserError($"--backend must be torch or onnx, not '{other}'"),
            };
            if (parse.GetValue(threads) < 1) throw new UserError($"--threads must be at least 1, got {parse.GetValue(threads)}");
            var options = new PolicyServerOptions
            {
                Host = parse.GetValue(host)!, Port = parse.GetValue(port), GrpcPort = parse.GetValue(grpcPort), MaxBatch = parse.GetValue(maxBatch), MaxQueueDelayMicroseconds = parse.GetValue(delay),
                // Ctrl+C leaves this verb 2 s to end (RLAgentsCli); in-flight requests take milliseconds.
                ShutdownTimeout = TimeSpan.FromSeconds(1.5),
            };
            PolicyServer server;
            try
            {
                options.Validate();
                var opened = PolicyBackends.Open(path, kind, parse.GetValue(threads));
                try
                {
                    server = await PolicyServer.StartAsync(opened, options, cancellation);
                }
                catch
                {
                    opened.Dispose();
                    throw;
                }
            }
            catch (ServingStartupException e)
            {
                throw new UserError(e.Message);
            }
            await using (server)
            {
                var info = server.Backend.Info;
                console.Out.WriteLine($"serving {info.Checkpoint ?? path} ({(info.IsQNetwork ? "q-network" : "actor-critic")}, {kind.ToString().ToLowerInvariant()} backend, max batch {options.MaxBatch}) on {server.Address}");
                console.Out.WriteLine($"  HTTP/JSON {server.Address}: POST /v1/act, GET /v1/spaces /healthz /readyz /metrics");
                console.Out.WriteLine($"  gRPC      {server.GrpcAddress}: rlagents.serving.v1.PolicyService (Act, Session, GetSpaces)");
                if (info.MemorySize > 0)
                    console.Out.WriteLine($"  recurrent: each answer carries the {info.MemorySize}-unit memory after its step; send it back with the episode's next observation");
                console.Out.WriteLine("  Ctrl+C stops (in-flight requests finish)");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellation);
                }
                catch (OperationCanceledException)
                {
                    console.Out.WriteLine("stopping");
                }
            }
            return RLAgentsCli.Ok;
        });
        return command;
    }
}
