using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Grpc.Net.Client;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Serving;
using RLAgents.Serving.Grpc;

namespace RLAgents.Benchmarks.Serving;

/// <summary>
/// The policy server under load on loopback: for the CartPole MLP (<c>cartpole-ppo.json</c>) and the
/// GoToLocal Transformer (<c>babyai-gotolocal-sft-ppo.json</c>), with dynamic batching on (max batch 64)
/// and off (max batch 1), 1, 16 and 64 concurrent clients per transport (HTTP/JSON, gRPC unary, gRPC
/// session stream), each client sending one observation per request and waiting for its answer:
/// throughput and p50/p99 latency, next to an in-process call of the same backend. Observations come
/// from each env under random actions. Clients and server share the process (and its 2 cores here).
/// <code>
/// dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- serving [--backend torch|onnx] [--threads 1] [--seconds 2] [--clients 1,16,64] [--only mlp|transformer] [--configs experiments/configs]
/// </code>
/// </summary>
internal static class ServingBench
{
    public const string Command = "serving";

    public static int Run(string[] args)
    {
        var kind = BenchTiming.Option(args, "--backend", "torch") == "onnx" ? BackendKind.Onnx : BackendKind.Torch;
        double seconds = double.Parse(BenchTiming.Option(args, "--seconds", "2"), CultureInfo.InvariantCulture);
        var clients = BenchTiming.Option(args, "--clients", "1,16,64").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        string configs = BenchTiming.Option(args, "--configs", "experiments/configs");
        string only = BenchTiming.Option(args, "--only", "");
        // Intra-op threads of either engine, as `rlagents serve --threads` (1 by default: with more, the engine's
        // workers spin against the clients and Kestrel for the same two cores).
        int threads = int.Parse(BenchTiming.Option(args, "--threads", "1"), CultureInfo.InvariantCulture);
        var models = new[] { ("mlp", "CartPole MLP", "cartpole-ppo.json"), ("transformer", "GoToLocal Transformer", "babyai-gotolocal-sft-ppo.json") };
        Console.WriteLine($"backend {kind.ToString().ToLowerInvariant()}, {threads} intra-op thread(s), {seconds} s per cell, {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine("| model | batching | transport | clients | req/s | p50 µs | p99 µs | mean batch |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|");
        foreach (var (key, label, file) in models)
        {
            if (only.Length > 0 && only != key) continue;
            var experiment = OptionsBinder.BindFile<ExperimentOptions>(Path.Combine(configs, file), []);
            ObservationBatch observations;
            using (var env = AgentFactory.MakeActingEnv(experiment)) observations = RandomObservations.Collect(env, 256, 1);
            InProcess(label, Backend(experiment, kind, threads), observations, seconds);
            foreach (int maxBatch in new[] { 64, 1 })
                Serve(label, Backend(experiment, kind, threads), maxBatch, observations, clients, seconds).GetAwaiter().GetResult();
        }
        return 0;
    }

    /// <summary>The config's policy (weights from its seed: timing does not depend on them) on the chosen engine.</summary>
    private static IPolicyBackend Backend(ExperimentOptions experiment, BackendKind kind, int threads)
    {
        IVectorEnv env = AgentFactory.MakeEnv(experiment, 1);
        var agent = AgentFactory.CreateAgent(experiment, env);
        env.Dispose();
        if (kind == BackendKind.Torch) return new TorchPolicyBackend(agent.Policy, owner: agent, threads: threads);
        using (agent)
        {
            var export = Policies.Export.PolicyOnnxExporter.Export(agent.Policy);
            using var stream = new MemoryStream();
            export.Model.Write(stream);
            return new OnnxPolicyBackend(stream.ToArray(), export.Info, Policies.Export.OnnxInputFeed.For(export), threads);
        }
    }

    private static void InProcess(string label, IPolicyBackend backend, ObservationBatch observations, double seconds)
    {
        using (backend)
        {
            int k = backend.Info.ActionSpace.N;
            var single = new ObservationBatch(observations.Space, 1);
            var preferences = new float[k];
            var values = new float[1];
            var latencies = new List<double>();
            var clock = Stopwatch.StartNew();
            for (int i = 0; clock.Elapsed.TotalSeconds < seconds; i++)
            {
                observations.CopySlot(i % observations.Count, single, 0);
                long t = Stopwatch.GetTimestamp();
                backend.Run(single, 1, preferences, values);
                latencies.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }
            Row(label, "—", "in-process call", 1, latencies.Count / clock.Elapsed.TotalSeconds, latencies, 1);
        }
    }

    private static async Task Serve(string label, IPolicyBackend backend, int maxBatch, ObservationBatch observations, int[] clientCounts, double seconds)
    {
        await using var server = await PolicyServer.StartAsync(backend, new PolicyServerOptions { Port = 0, MaxBatch = maxBatch, MaxRequestObservations = 64 });
        var bodies = Enumerable.Range(0, observations.Count).Select(i => Encoding.UTF8.GetBytes($"{{\"observation\": {Json(observations, i)}}}")).ToArray();
        var protos = Enumerable.Range(0, observations.Count).Select(i => new ActRequest { Observations = { Proto(observations, i) } }).ToArray();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = server.Address };
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } });
        var grpc = new PolicyService.PolicyServiceClient(channel);
        string batching = maxBatch == 1 ? "off" : $"on ({maxBatch})";
        foreach (int n in clientCounts)
        {
            await Load(label, batching, "HTTP/JSON", n, seconds, server, async (client, i) =>
            {
                using var content = new ByteArrayContent(bodies[i % bodies.Length]);
                content.Headers.ContentType = new("application/json");
                using var response = await http.PostAsync("/v1/act", content);
                if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException(await response.Content.ReadAsStringAsync());
                await response.Content.ReadAsByteArrayAsync();
            });
            await Load(label, batching, "gRPC unary", n, seconds, server, async (client, i) => await grpc.ActAsync(protos[i % protos.Length]));
            var sessions = Enumerable.Range(0, n).Select(_ => grpc.Session()).ToArray();
            await Load(label, batching, "gRPC stream", n, seconds, server, async (client, i) =>
            {
                var session = sessions[client];
                await session.RequestStream.WriteAsync(protos[i % protos.Length]);
                if (!await session.ResponseStream.MoveNext(CancellationToken.None)) throw new InvalidOperationException("session ended");
            });
            foreach (var s in sessions)
            {
                // Close both sides: the server's stream ends with OK once the client has completed its own.
                await s.RequestStream.CompleteAsync();
                if (await s.ResponseStream.MoveNext(CancellationToken.None)) throw new InvalidOperationException("the session answered after the client completed");
                s.Dispose();
            }
        }
    }

    /// <summary>
    /// <paramref name="clients"/> loops, each sending a request and awaiting its answer, for <paramref name="seconds"/>
    /// (after a short warm-up); one row of throughput and latency quantiles over every request.
    /// </summary>
    private static async Task Load(string label, string batching, string transport, int clients, double seconds, PolicyServer server, Func<int, int, Task> request)
    {
        long batchesBefore = 0, rowsBefore = 0;
        var latencies = new List<double>[clients];
        var stopAt = Stopwatch.GetTimestamp() + (long)(0.3 * Stopwatch.Frequency);
        // Warm-up: every client once, then measure.
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => request(c, c)));
        (batchesBefore, rowsBefore) = BatchCounter.Read();
        var clock = Stopwatch.StartNew();
        long end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = latencies[c] = [];
            for (int i = c; Stopwatch.GetTimestamp() < end; i += clients)
            {
                long t = Stopwatch.GetTimestamp();
                await request(c, i);
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }
        })));
        double elapsed = clock.Elapsed.TotalSeconds;
        var (batches, rows) = BatchCounter.Read();
        var all = latencies.SelectMany(l => l).ToList();
        double meanBatch = batches > batchesBefore ? (rows - rowsBefore) / (double)(batches - batchesBefore) : 0;
        Row(label, batching, transport, clients, all.Count / elapsed, all, meanBatch);
    }

    private static void Row(string model, string batching, string transport, int clients, double throughput, List<double> latencies, double meanBatch)
    {
        latencies.Sort();
        double Q(double q) => latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {model} | {batching} | {transport} | {clients} | {throughput:F0} | {Q(0.5):F0} | {Q(0.99):F0} | {meanBatch:F1} |"));
    }

    private static string Json(ObservationBatch batch, int i)
    {
        var space = batch.Space;
        var parts = new List<string>();
        for (int m = 0; m < space.Count; m++)
        {
            var modality = space[m];
            string value = modality.Space switch
            {
                BoxSpace { DType: DType.Float32 } box => "[" + string.Join(",", batch.Floats(m).AsSpan(i * box.Size, box.Size).ToArray().Select(f => f.ToString("R", CultureInfo.InvariantCulture))) + "]",
                BoxSpace box => "[" + string.Join(",", batch.Bytes(m).AsSpan(i * box.Size, box.Size).ToArray()) + "]",
                DiscreteSpace => batch.Ints(m)[i].ToString(CultureInfo.InvariantCulture),
                _ => System.Text.Json.JsonSerializer.Serialize(batch.Texts(m)[i]),
            };
            parts.Add($"\"{modality.Name}\": {value}");
        }
        return "{" + string.Join(", ", parts) + "}";
    }

    private static RLAgents.Serving.Grpc.Observation Proto(ObservationBatch batch, int i)
    {
        var space = batch.Space;
        var o = new RLAgents.Serving.Grpc.Observation();
        for (int m = 0; m < space.Count; m++)
        {
            var modality = space[m];
            o.Modalities[modality.Name] = modality.Space switch
            {
                BoxSpace { DType: DType.Float32 } box => new ModalityValue { Floats = new FloatValues { Values = { batch.Floats(m).AsSpan(i * box.Size, box.Size).ToArray() } } },
                BoxSpace box => new ModalityValue { Uint8 = Google.Protobuf.ByteString.CopyFrom(batch.Bytes(m), i * box.Size, box.Size) },
                DiscreteSpace => new ModalityValue { Discrete = batch.Ints(m)[i] },
                _ => new ModalityValue { Text = batch.Texts(m)[i] },
            };
        }
        return o;
    }

    /// <summary>Backend calls and rows so far, from the server's batch-size histogram (a MeterListener on it).</summary>
    private static class BatchCounter
    {
        private static long _batches, _rows;
        private static readonly System.Diagnostics.Metrics.MeterListener Listener = Start();

        private static System.Diagnostics.Metrics.MeterListener Start()
        {
            var listener = new System.Diagnostics.Metrics.MeterListener
            {
                InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Meter.Name == ServingMetrics.MeterName && instrument.Name == "rlagents.serving.batch.size") l.EnableMeasurementEvents(instrument);
                },
            };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
            {
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _rows, value);
            });
            listener.Start();
            return listener;
        }

        public static (long Batches, long Rows) Read()
        {
            GC.KeepAlive(Listener);
            return (Interlocked.Read(ref _batches), Interlocked.Read(ref _rows));
        }
    }
}
