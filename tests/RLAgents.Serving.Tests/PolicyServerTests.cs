using System.Globalization;
using System.Net;
using Grpc.Core;
using RLAgents.Environments;
using RLAgents.Policies;
using RLAgents.Serving.Grpc;
using static RLAgents.Serving.Tests.ServingTestKit;

namespace RLAgents.Serving.Tests;

public sealed class PolicyServerTests
{
    [Fact]
    public async Task HttpAnswersSingleAndBatchRequestsWithThePolicysGreedyActions()
    {
        using var env = CartPole();
        var batch = RandomObservations.Collect(env, 40, 21);
        var policy = CartPolePolicy();
        var expected = Greedy(policy, batch);
        await using var server = await Start(new TorchPolicyBackend(policy, owner: policy));
        using var http = Http(server);

        for (int i = 0; i < 5; i++)
        {
            var (status, body) = await Act(http, $"{{\"observation\": {ObservationWriter.ToJson(batch, i)}}}");
            Assert.Equal(200, status);
            Assert.Equal(expected[i], body.GetProperty("action").GetInt32());
            Assert.False(body.TryGetProperty("probabilities", out _));
        }
        var all = string.Join(", ", Enumerable.Range(0, batch.Count).Select(i => ObservationWriter.ToJson(batch, i)));
        var (batchStatus, answer) = await Act(http, $"{{\"observations\": [{all}], \"probabilities\": true, \"value\": true}}");
        Assert.Equal(200, batchStatus);
        Assert.Equal(expected, answer.GetProperty("actions").EnumerateArray().Select(a => a.GetInt32()));
        Assert.All(answer.GetProperty("probabilities").EnumerateArray(), p => Assert.Equal(1.0, p.EnumerateArray().Sum(x => x.GetDouble()), 5));
        Assert.Equal(batch.Count, answer.GetProperty("values").GetArrayLength());
    }

    [Fact]
    public async Task SampledActionsRepeatUnderTheSameSeedAndFollowTheDistribution()
    {
        using var env = CartPole();
        var batch = RandomObservations.Collect(env, 1, 22);
        var policy = CartPolePolicy();
        await using var server = await Start(new TorchPolicyBackend(policy, owner: policy));
        using var http = Http(server);
        string observation = ObservationWriter.ToJson(batch, 0);
        var many = $"{{\"observations\": [{string.Join(", ", Enumerable.Repeat(observation, 400))}], \"sample\": true, \"seed\": 9, \"probabilities\": true}}";
        var (_, first) = await Act(http, many);
        var (_, second) = await Act(http, many);
        var actions = first.GetProperty("actions").EnumerateArray().Select(a => a.GetInt32()).ToArray();
        Assert.Equal(actions, second.GetProperty("actions").EnumerateArray().Select(a => a.GetInt32()));
        var (_, other) = await Act(http, many.Replace("\"seed\": 9", "\"seed\": 10", StringComparison.Ordinal));
        Assert.NotEqual(actions, other.GetProperty("actions").EnumerateArray().Select(a => a.GetInt32()));
        // 400 draws of one distribution: the share of action 1 lies within 5 standard errors of its probability.
        double p1 = first.GetProperty("probabilities")[0][1].GetDouble();
        double share = actions.Count(a => a == 1) / 400.0;
        Assert.InRange(share, p1 - 5 * Math.Sqrt(p1 * (1 - p1) / 400), p1 + 5 * Math.Sqrt(p1 * (1 - p1) / 400));
        // A single request with the seed draws as the batch's first observation.
        var (_, single) = await Act(http, $"{{\"observation\": {observation}, \"sample\": true, \"seed\": 9}}");
        Assert.Equal(actions[0], single.GetProperty("action").GetInt32());
    }

    [Fact]
    public async Task GrpcUnaryAndSessionStreamGiveTheSameActionsAsTheTorchForward()
    {
        using var env = GoToLocal();
        var batch = RandomObservations.Collect(env, 24, 23);
        var policy = GridWorldPolicy();
        var expected = Greedy(policy, batch);
        await using var server = await Start(new TorchPolicyBackend(policy, owner: policy));
        var (channel, client) = GrpcClient(server);
        using (channel)
        {
            var unary = new ActRequest { Value = true };
            for (int i = 0; i < batch.Count; i++) unary.Observations.Add(ObservationWriter.ToProto(batch, i));
            var answer = await client.ActAsync(unary);
            Assert.Equal(expected, answer.Actions);
            Assert.Equal(batch.Count, answer.Values.Count);

            using var session = client.Session();
            for (int i = 0; i < batch.Count; i++)
            {
                await session.RequestStream.WriteAsync(new ActRequest { Observations = { ObservationWriter.ToProto(batch, i) } });
                Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None));
                Assert.Equal(expected[i], session.ResponseStream.Current.Actions.Single());
            }
            await session.RequestStream.CompleteAsync();
            Assert.False(await session.ResponseStream.MoveNext(CancellationToken.None));

            var spaces = System.Text.Json.JsonDocument.Parse((await client.GetSpacesAsync(new SpacesRequest())).Json).RootElement;
            Assert.Equal("actor_critic", spaces.GetProperty("policy").GetString());
            Assert.Equal(7, spaces.GetProperty("action_space").GetProperty("n").GetInt32());
        }
    }

    [Fact]
    public async Task TheOnnxBackendAnswersAsTheTorchBackend()
    {
        using var env = GoToLocal();
        var batch = RandomObservations.Collect(env, 30, 24);
        var policy = GridWorldPolicy();
        var expected = Greedy(policy, batch);
        await using var server = await Start(Onnx(policy));
        policy.Dispose();
        using var http = Http(server);
        var all = string.Join(", ", Enumerable.Range(0, batch.Count).Select(i => ObservationWriter.ToJson(batch, i)));
        var (status, answer) = await Act(http, $"{{\"observations\": [{all}]}}");
        Assert.Equal(200, status);
        Assert.Equal(expected, answer.GetProperty("actions").EnumerateArray().Select(a => a.GetInt32()));
        Assert.Equal("onnx", (await http.GetFromJson("/v1/spaces")).GetProperty("backend").GetString());
    }

    [Fact]
    public async Task HealthReadinessAndPrometheusMetricsAnswer()
    {
        using var env = CartPole();
        var batch = RandomObservations.Collect(env, 3, 25);
        var policy = CartPolePolicy();
        await using var server = await Start(new TorchPolicyBackend(policy, owner: policy));
        using var http = Http(server);
        Assert.Equal("ok", (await http.GetStringAsync("/healthz")).Trim());
        Assert.Equal("ready", (await http.GetStringAsync("/readyz")).Trim());
        for (int i = 0; i < 3; i++) Assert.Equal(200, (await Act(http, $"{{\"observation\": {ObservationWriter.ToJson(batch, i)}}}")).Status);
        Assert.Equal(400, (await Act(http, "{\"observation\": {}}")).Status);

        string metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("# TYPE rlagents_serving_requests_total counter", metrics);
        Assert.True(Count(metrics, "rlagents_serving_requests_total{", "outcome=\"ok\"", "transport=\"http\"") >= 3);
        Assert.True(Count(metrics, "rlagents_serving_requests_total{", "outcome=\"invalid\"", "transport=\"http\"") >= 1);
        Assert.Contains("rlagents_serving_request_duration_seconds_bucket{", metrics);
        Assert.Contains("rlagents_serving_batch_size_bucket{", metrics);
    }

    private static double Count(string metrics, string prefix, params string[] labels) =>
        metrics.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal) && labels.All(l.Contains))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    [Fact]
    public async Task ABusyPortIsAStartupErrorInOneLine()
    {
        var policy = CartPolePolicy();
        await using var first = await Start(new TorchPolicyBackend(policy, owner: policy));
        var second = CartPolePolicy();
        using var backend = new TorchPolicyBackend(second, owner: second);
        var e = await Assert.ThrowsAsync<ServingStartupException>(() =>
            PolicyServer.StartAsync(backend, new PolicyServerOptions { Port = first.Address.Port, GrpcPort = 0 }));
        Assert.StartsWith($"cannot listen on 127.0.0.1 (ports {first.Address.Port} and 0): ", e.Message);
        Assert.Contains("address already in use", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ABadModelFileIsAStartupErrorInOneLine()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("bad.onnx");
        File.WriteAllBytes(path, [0x08, 0x07, 0x12, 0xff, 0xff, 0x01, 0x02]);
        var e = Assert.Throws<ServingStartupException>(() => PolicyBackends.Open(path, BackendKind.Onnx, 1));
        Assert.StartsWith($"{path}: not a valid ONNX model", e.Message);
        var torch = Assert.Throws<ServingStartupException>(() => PolicyBackends.Open(path, BackendKind.Torch, 1));
        Assert.Contains("serve it with --backend onnx", torch.Message);
        var missing = Assert.Throws<ServingStartupException>(() => PolicyBackends.Open(path + ".missing", BackendKind.Onnx, 1));
        Assert.Contains("does not exist", missing.Message);
    }

    [Fact]
    public async Task StoppingLetsInFlightRequestsFinishAndEndsSessionsCleanly()
    {
        var backend = new GatedBackend();
        var server = await Start(backend, maxBatch: 4);
        using var http = Http(server);
        var (channel, client) = GrpcClient(server);
        using (channel)
        {
            using var session = client.Session();
            await session.RequestStream.WriteAsync(new ActRequest { Observations = { GatedBackend.Observation() } });
            Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None));

            backend.Hold();
            var inFlight = Act(http, "{\"observation\": {\"x\": [0.5]}}");
            await backend.Entered.WaitAsync(TimeSpan.FromSeconds(10));
            var stopping = server.StopAsync();
            // The session ends with OK (no more responses) and its client closes its side.
            Assert.False(await session.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(StatusCode.OK, session.GetStatus().StatusCode);
            await session.RequestStream.CompleteAsync();
            // The HTTP request held in the backend keeps the server from stopping until it is answered.
            await Task.Delay(100);
            Assert.False(stopping.IsCompleted);
            backend.Release();
            var (status, body) = await inFlight;
            Assert.Equal(200, status);
            Assert.Equal(1, body.GetProperty("action").GetInt32());
            await stopping.WaitAsync(TimeSpan.FromSeconds(10));
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync("/healthz"));
        }
        await server.DisposeAsync();
    }
}

internal static class HttpJson
{
    public static async Task<System.Text.Json.JsonElement> GetFromJson(this HttpClient http, string path) =>
        System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(path)).RootElement.Clone();
}
