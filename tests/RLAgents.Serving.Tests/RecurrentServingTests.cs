using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using RLAgents.Environments;
using RLAgents.Policies;
using RLAgents.Policies.Export;
using RLAgents.Policies.Tests.Export;
using RLAgents.Serving.Grpc;
using static RLAgents.Serving.Tests.ServingTestKit;

namespace RLAgents.Serving.Tests;

/// <summary>
/// A recurrent policy behind the server: each answer carries the memory after its step, the client sends it back with the
/// episode's next observation, and the actions, values and memories equal TorchSharp's own step-by-step acting.
/// </summary>
public sealed class RecurrentServingTests
{
    private const int Steps = 8;

    /// <summary>A CartPole actor-critic with a recurrent state (16 units), weights perturbed so memory moves the logits.</summary>
    private static ActorCriticPolicy RecurrentPolicy(ulong seed = 5)
    {
        using var env = CartPole();
        var options = new PolicyOptions { HiddenSizes = [16], Recurrent = true };
        var policy = new ActorCriticPolicy(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, new Rng(seed));
        ExportTestKit.Perturb(policy, seed);
        return policy;
    }

    /// <summary>What TorchSharp's acting gives step by step from a zero memory: per step the greedy action, V(s) and the memory after it.</summary>
    private static (int[] Actions, float[] Values, float[][] Memories) Reference(Policy policy, ObservationBatch episode, int size)
    {
        var actions = new int[episode.Count];
        var values = new float[episode.Count];
        var memories = new float[episode.Count][];
        var memory = new float[size];
        var one = new ObservationBatch(episode.Space, 1);
        for (int t = 0; t < episode.Count; t++)
        {
            episode.CopySlot(t, one, 0);
            var (preferences, v, next) = ExportTestKit.Torch(policy, one, withValues: true, memory);
            actions[t] = preferences[1] > preferences[0] ? 1 : 0;
            values[t] = v![0];
            memories[t] = memory = next!;
        }
        return (actions, values, memories);
    }

    private static string Json(float[] row) => "[" + string.Join(", ", row.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]";

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(x => x.GetSingle()).ToArray();

    /// <summary>Steps one episode over HTTP, echoing each answer's memory: the actions, values and memories it got.</summary>
    private static async Task<(int[] Actions, float[] Values, float[][] Memories)> Episode(HttpClient http, ObservationBatch episode)
    {
        var actions = new int[episode.Count];
        var values = new float[episode.Count];
        var memories = new float[episode.Count][];
        for (int t = 0; t < episode.Count; t++)
        {
            string memory = t == 0 ? "" : $", \"memory\": {Json(memories[t - 1])}";
            var (status, body) = await Act(http, $"{{\"observation\": {ObservationWriter.ToJson(episode, t)}, \"value\": true{memory}}}");
            Assert.Equal(200, status);
            actions[t] = body.GetProperty("action").GetInt32();
            values[t] = body.GetProperty("value").GetSingle();
            memories[t] = Floats(body.GetProperty("memory"));
        }
        return (actions, values, memories);
    }

    private static void AssertSame((int[] Actions, float[] Values, float[][] Memories) expected, (int[] Actions, float[] Values, float[][] Memories) got, float tolerance)
    {
        Assert.Equal(expected.Actions, got.Actions);
        for (int t = 0; t < expected.Values.Length; t++)
        {
            Assert.Equal(expected.Values[t], got.Values[t], tolerance);
            AssertClose(expected.Memories[t], got.Memories[t], tolerance);
        }
    }

    private static void AssertClose(float[] expected, float[] got, float tolerance)
    {
        Assert.Equal(expected.Length, got.Length);
        for (int j = 0; j < expected.Length; j++) Assert.Equal(expected[j], got[j], tolerance);
    }

    [Fact]
    public async Task HttpAnswersCarryTheMemoryAndEchoingItReproducesTorchsActingStepByStep()
    {
        using var env = CartPole();
        var episode = RandomObservations.Collect(env, Steps, 31);
        var policy = RecurrentPolicy();
        var expected = Reference(policy, episode, policy.MemorySize);
        await using var server = await Start(new TorchPolicyBackend(policy, owner: policy));
        using var http = Http(server);
        Assert.Equal(policy.MemorySize, (await http.GetFromJson("/v1/spaces")).GetProperty("memory_size").GetInt32());

        AssertSame(expected, await Episode(http, episode), 1e-6f);

        // The memory is what the answers depend on: the last step from a fresh memory is another value.
        var (_, fresh) = await Act(http, $"{{\"observation\": {ObservationWriter.ToJson(episode, Steps - 1)}, \"value\": true}}");
        Assert.NotEqual(expected.Values[^1], fresh.GetProperty("value").GetSingle(), 1e-4f);

        // A batch carries one memory per observation (null begins an episode): steps 3 and 0 together, then 4 and 1.
        var (status, batch) = await Act(http, $"{{\"observations\": [{ObservationWriter.ToJson(episode, 3)}, {ObservationWriter.ToJson(episode, 0)}], " +
            $"\"memories\": [{Json(expected.Memories[2])}, null], \"value\": true}}");
        Assert.Equal(200, status);
        var values = Floats(batch.GetProperty("values"));
        Assert.Equal(expected.Values[3], values[0], 1e-6f);
        Assert.Equal(expected.Values[0], values[1], 1e-6f);
        // A batch of two rows may round differently from one row at a time (BLAS blocking): close, not bit-equal.
        var next = batch.GetProperty("memories");
        AssertClose(expected.Memories[3], Floats(next[0]), 1e-6f);
        AssertClose(expected.Memories[0], Floats(next[1]), 1e-6f);
    }

    [Fact]
    public async Task ConcurrentEpisodesBatchedTogetherKeepTheirOwnMemories()
    {
        using var env = CartPole();
        var policy = RecurrentPolicy();
        var episodes = Enumerable.Range(0, 4).Select(i => RandomObservations.Collect(env, Steps, 40 + (ulong)i)).ToArray();
        var expected = episodes.Select(e => Reference(policy, e, policy.MemorySize)).ToArray();
        // A 20 ms queue delay: the four clients' requests run in shared batches, each row with its own memory.
        var backend = new Recording(new TorchPolicyBackend(policy, owner: policy));
        await using var server = await Start(backend, maxBatch: 16, delayMicroseconds: 20_000);
        using var http = Http(server);
        var got = await Task.WhenAll(episodes.Select(e => Episode(http, e)));
        for (int i = 0; i < episodes.Length; i++) AssertSame(expected[i], got[i], 1e-6f);
        Assert.True(backend.Largest > 1, $"every batch held one request (largest {backend.Largest}): nothing was joined");
    }

    /// <summary>Passes calls through and remembers the largest batch.</summary>
    private sealed class Recording(IPolicyBackend inner) : IPolicyBackend
    {
        public int Largest { get; private set; }

        public BackendKind Kind => inner.Kind;

        public OnnxPolicyInfo Info => inner.Info;

        public void Run(ObservationBatch batch, int count, ReadOnlySpan<float> memory, Span<float> preferences, Span<float> values, Span<float> memoryOut)
        {
            Largest = Math.Max(Largest, count);
            inner.Run(batch, count, memory, preferences, values, memoryOut);
        }

        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public async Task TheOnnxBackendCarriesTheMemoryAsTorchDoes()
    {
        using var dir = new TempDirectory();
        using var env = CartPole();
        var episode = RandomObservations.Collect(env, Steps, 32);
        var policy = RecurrentPolicy();
        var expected = Reference(policy, episode, policy.MemorySize);
        string path = dir.Combine("recurrent.onnx");
        PolicyOnnxExporter.ExportTo(policy, path);
        policy.Dispose();
        // An exported graph file serves as it is: memory in, memory_out back to the client.
        await using var server = await Start(PolicyBackends.Open(path, BackendKind.Onnx, 1));
        Assert.Equal(16, server.Backend.Info.MemorySize);
        using var http = Http(server);
        AssertSame(expected, await Episode(http, episode), 1e-4f);
    }

    [Fact]
    public async Task GrpcCarriesMemoriesAndRefusesBadOnesWithInvalidArgument()
    {
        using var env = CartPole();
        var episode = RandomObservations.Collect(env, Steps, 33);
        var policy = RecurrentPolicy();
        int h = policy.MemorySize;
        var expected = Reference(policy, episode, h);
        await using var server = await Start(new TorchPolicyBackend(policy, owner: policy));
        var (channel, client) = GrpcClient(server);
        using (channel)
        {
            using var session = client.Session();
            FloatValues memory = new(); // empty: the episode begins
            for (int t = 0; t < Steps; t++)
            {
                await session.RequestStream.WriteAsync(new ActRequest { Observations = { ObservationWriter.ToProto(episode, t) }, Memories = { memory }, Value = true });
                Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None));
                var answer = session.ResponseStream.Current;
                Assert.Equal(expected.Actions[t], answer.Actions.Single());
                Assert.Equal(expected.Values[t], answer.Values.Single(), 1e-6f);
                memory = answer.Memories.Single();
                Assert.Equal(expected.Memories[t], memory.Values);
            }
            await session.RequestStream.CompleteAsync();

            var wrong = new ActRequest { Observations = { ObservationWriter.ToProto(episode, 0) }, Memories = { new FloatValues { Values = { 0.5f, 0.5f } } } };
            var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ActAsync(wrong));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Equal($"memories[0]: 2 values, the policy's memory has {h}", e.Status.Detail);
            var missing = new ActRequest { Observations = { ObservationWriter.ToProto(episode, 0), ObservationWriter.ToProto(episode, 1) }, Memories = { new FloatValues() } };
            e = await Assert.ThrowsAsync<RpcException>(async () => await client.ActAsync(missing));
            Assert.Equal("memories: 1 memories for 2 observations", e.Status.Detail);
            // Still serving.
            Assert.Equal(expected.Actions[0], (await client.ActAsync(new ActRequest { Observations = { ObservationWriter.ToProto(episode, 0) } })).Actions.Single());
        }
    }

    [Fact]
    public async Task BadMemoriesGet400NamingTheFieldAndTheServerKeepsServing()
    {
        using var env = CartPole();
        var episode = RandomObservations.Collect(env, 2, 34);
        var recurrent = RecurrentPolicy();
        int h = recurrent.MemorySize;
        string o = ObservationWriter.ToJson(episode, 0);
        await using (var server = await Start(new TorchPolicyBackend(recurrent, owner: recurrent)))
        {
            using var http = Http(server);
            string zeros = Json(new float[h]);
            var cases = new (string Body, string Error)[]
            {
                ($"{{\"observation\": {o}, \"memory\": [1, 2]}}", $"memory: 2 values, the policy's memory has {h}"),
                ($"{{\"observation\": {o}, \"memory\": 3}}", $"memory: expected an array of {h} numbers (the previous answer's memory), got 3"),
                ($"{{\"observation\": {o}, \"memory\": [{string.Join(", ", Enumerable.Repeat("0", h - 1))}, \"x\"]}}", $"memory[{h - 1}]: expected a number, got the string \"x\""),
                ($"{{\"observation\": {o}, \"memory\": [{string.Join(", ", Enumerable.Repeat("0", h - 1))}, 1e300]}}", $"memory[{h - 1}]: 1E+300 is outside float32's range"),
                ($"{{\"observation\": {o}, \"memories\": [{zeros}]}}", "memories: one observation takes 'memory' (a batch takes 'memories')"),
                ($"{{\"observations\": [{o}, {o}], \"memories\": [{zeros}]}}", "memories: 1 memories for 2 observations"),
                ($"{{\"observations\": [{o}], \"memory\": {zeros}}}", "memory: a batch of observations takes 'memories', one per observation"),
            };
            foreach (var (body, error) in cases)
            {
                var (status, answer) = await Act(http, body);
                Assert.Equal(400, status);
                Assert.Equal(error, answer.GetProperty("error").GetString());
            }
            var (ok, _) = await Act(http, $"{{\"observation\": {o}, \"memory\": {zeros}}}");
            Assert.Equal(200, ok);
        }

        // A memoryless policy refuses a memory rather than ignoring it, and answers without one.
        var plain = CartPolePolicy();
        await using var memoryless = await Start(new TorchPolicyBackend(plain, owner: plain));
        using var client = Http(memoryless);
        var (refused, message) = await Act(client, $"{{\"observation\": {o}, \"memory\": [0.1]}}");
        Assert.Equal(400, refused);
        Assert.Equal("memory: this policy is not recurrent and keeps no memory; leave the field out", message.GetProperty("error").GetString());
        var (served, plainAnswer) = await Act(client, $"{{\"observation\": {o}}}");
        Assert.Equal(200, served);
        Assert.False(plainAnswer.TryGetProperty("memory", out _));
        Assert.Equal(0, (await client.GetFromJson("/v1/spaces")).GetProperty("memory_size").GetInt32());
    }
}
