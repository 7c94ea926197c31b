using System.Text;
using Grpc.Core;
using RLAgents.Environments;
using RLAgents.Serving.Grpc;
using static RLAgents.Serving.Tests.ServingTestKit;

namespace RLAgents.Serving.Tests;

/// <summary>Malformed requests get 400 / INVALID_ARGUMENT naming the field and the problem, and the server goes on serving.</summary>
public sealed class MalformedRequestTests
{
    private const string Image = "[[[2,5,0],[2,5,0],[2,5,0],[2,5,0],[2,5,0],[2,5,0],[2,5,0]],[[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0]],[[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0]],[[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0]],[[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0]],[[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0]],[[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0],[1,0,0]]]";

    private static string Obs(string image = Image, string direction = "0", string mission = "\"go to the red ball\"", string extra = "") =>
        $"{{\"image\": {image}, \"direction\": {direction}, \"mission\": {mission}{extra}}}";

    /// <summary>(request body, text the error must contain).</summary>
    public static TheoryData<string, string> Corpus() => new()
    {
        { "", "the request body is not JSON" },
        { "{", "the request body is not JSON" },
        { "not json", "the request body is not JSON" },
        { "[1, 2]", "the request must be a JSON object, got an array of 2" },
        { "42", "the request must be a JSON object, got 42" },
        { "{}", "give exactly one of 'observation' (one) and 'observations' (a batch)" },
        { $"{{\"observation\": {Obs()}, \"observations\": [{Obs()}]}}", "give exactly one of" },
        { $"{{\"observation\": {Obs()}, \"temperature\": 2}}", "unknown field 'temperature'" },
        { "{\"observation\": 7}", "observation: expected an object of modality → value, got 7" },
        { "{\"observation\": []}", "observation: expected an object of modality → value, got an array of 0" },
        { $"{{\"observation\": {Obs(extra: ", \"reward\": 1")}}}", "observation: unknown modality 'reward' (the policy reads image, direction, mission)" },
        { $"{{\"observation\": {{\"image\": {Image}, \"direction\": 0}}}}", "observation: modality 'mission' is missing" },
        { $"{{\"observation\": {{\"direction\": 0, \"mission\": \"go\"}}}}", "observation: modality 'image' is missing" },
        { $"{{\"observation\": {Obs(image: "[1, 2, 3]")}}}", "observation.image: expected shape [7, 7, 3] (or 147 values flat), got 3 entries" },
        { $"{{\"observation\": {Obs(image: "\"pixels\"")}}}", "observation.image: expected an array of 7 (shape [7, 7, 3]), got the string \"pixels\"" },
        { $"{{\"observation\": {Obs(image: Image.Replace("[2,5,0],[2,5,0]]", "[2,5,0]]", StringComparison.Ordinal))}}}", "observation.image[0]: expected 7 entries (shape [7, 7, 3]), got 6" },
        { $"{{\"observation\": {Obs(image: Image.Replace("[[[2,5,0]", "[[[2,5]", StringComparison.Ordinal))}}}", "observation.image[0][0]: expected 3 entries" },
        { $"{{\"observation\": {Obs(image: Image.Replace("[[[2,5,0]", "[[[2.5,5,0]", StringComparison.Ordinal))}}}", "observation.image[0][0][0]: expected an integer in [0, 10] (uint8), got 2.5" },
        { $"{{\"observation\": {Obs(image: Image.Replace("[[[2,5,0]", "[[[\"2\",5,0]", StringComparison.Ordinal))}}}", "observation.image[0][0][0]: expected an integer in [0, 10] (uint8), got the string \"2\"" },
        { $"{{\"observation\": {Obs(image: Image.Replace("[[[2,5,0]", "[[[11,5,0]", StringComparison.Ordinal))}}}", "observation.image[0][0][0]: 11 is outside [0, 10]" },
        { $"{{\"observation\": {Obs(image: Image.Replace("[[[2,5,0]", "[[[2,6,0]", StringComparison.Ordinal))}}}", "observation.image[0][0][1]: 6 is outside [0, 5]" },
        { $"{{\"observation\": {Obs(image: Image.Replace("[[[2,5,0]", "[[[2,5,-1]", StringComparison.Ordinal))}}}", "observation.image[0][0][2]: -1 is outside [0, 2]" },
        { $"{{\"observation\": {Obs(image: Image.Replace("[[[2,5,0]", "[[[2,5,null]", StringComparison.Ordinal))}}}", "observation.image[0][0][2]: expected an integer in [0, 2] (uint8), got null" },
        { $"{{\"observation\": {Obs(direction: "4")}}}", "observation.direction: 4 is outside [0, 3]" },
        { $"{{\"observation\": {Obs(direction: "-1")}}}", "observation.direction: -1 is outside [0, 3]" },
        { $"{{\"observation\": {Obs(direction: "1.5")}}}", "observation.direction: expected an integer in [0, 3], got 1.5" },
        { $"{{\"observation\": {Obs(direction: "\"north\"")}}}", "observation.direction: expected an integer in [0, 3], got the string \"north\"" },
        { $"{{\"observation\": {Obs(mission: "3")}}}", "observation.mission: expected a string, got 3" },
        { $"{{\"observation\": {Obs(mission: "[\"go\"]")}}}", "observation.mission: expected a string, got an array of 1" },
        { $"{{\"observation\": {Obs(mission: "\"" + new string('a', 513) + "\"")}}}", "observation.mission: text too long: 513 characters, at most 512" },
        { $"{{\"observation\": {Obs(mission: "\"go to the ball\\u0007\"")}}}", "observation.mission: character U+0007 at 14 is not allowed" },
        { "{\"observations\": []}", "observations: the batch is empty" },
        { "{\"observations\": {}}", "observations: expected an array of observation objects, got an object" },
        { $"{{\"observations\": [{Obs()}, {Obs(direction: "9")}]}}", "observations[1].direction: 9 is outside [0, 3]" },
        { $"{{\"observation\": {Obs()}, \"sample\": \"yes\"}}", "sample: expected true or false, got the string \"yes\"" },
        { $"{{\"observation\": {Obs()}, \"seed\": -3}}", "seed: expected a non-negative integer, got -3" },
        { $"{{\"observation\": {Obs()}, \"probabilities\": 1}}", "probabilities: expected true or false, got 1" },
    };

    [Fact]
    public async Task ACorpusOfMalformedRequestsGets400sNamingTheProblemAndTheServerKeepsServing()
    {
        var policy = GridWorldPolicy();
        await using var server = await Start(new TorchPolicyBackend(policy, owner: policy));
        using var http = Http(server);
        var corpus = Corpus();
        Assert.True(corpus.Count >= 30);
        foreach (var row in corpus)
        {
            var (body, expected) = ((string)row[0], (string)row[1]);
            using var response = await http.PostAsync("/v1/act", new StringContent(body, Encoding.UTF8, "application/json"));
            string text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == 400, $"{body[..Math.Min(body.Length, 80)]}: {(int)response.StatusCode} {text}");
            var error = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
            Assert.Contains(expected, error);
            Assert.DoesNotContain('\n', error);
        }
        var (status, answer) = await Act(http, $"{{\"observation\": {Obs()}}}");
        Assert.Equal(200, status);
        Assert.InRange(answer.GetProperty("action").GetInt32(), 0, 6);
    }

    [Fact]
    public async Task MalformedGrpcRequestsFailWithInvalidArgumentAndTheServerKeepsServing()
    {
        using var env = GoToLocal();
        var batch = RandomObservations.Collect(env, 1, 31);
        var policy = GridWorldPolicy();
        await using var server = await Start(new TorchPolicyBackend(policy, owner: policy));
        var (channel, client) = GrpcClient(server);
        using (channel)
        {
            var good = Proto(batch, 0);
            ActRequest With(Action<Grpc.Observation> change)
            {
                var o = good.Clone();
                change(o);
                return new ActRequest { Observations = { o } };
            }
            var corpus = new (ActRequest Request, string Expected)[]
            {
                (new ActRequest(), "observations: the request holds none"),
                (With(o => o.Modalities.Remove("direction")), "observation: modality 'direction' is missing"),
                (With(o => o.Modalities["speed"] = new ModalityValue { Discrete = 1 }), "observation: unknown modality 'speed'"),
                (With(o => o.Modalities["image"] = new ModalityValue { Uint8 = Google.Protobuf.ByteString.CopyFrom(new byte[10]) }), "observation.image: expected 147 bytes (shape [7, 7, 3]), got 10"),
                (With(o => o.Modalities["image"] = new ModalityValue { Floats = new FloatValues { Values = { 1f } } }), "observation.image: expected uint8 bytes (a uint8 box), got floats"),
                (With(o => o.Modalities["image"] = new ModalityValue { Uint8 = Google.Protobuf.ByteString.CopyFrom(Enumerable.Repeat((byte)200, 147).ToArray()) }), "observation.image[0]: 200 is outside [0, 10]"),
                (With(o => o.Modalities["direction"] = new ModalityValue { Discrete = 7 }), "observation.direction: 7 is outside [0, 3]"),
                (With(o => o.Modalities["direction"] = new ModalityValue { Text = "north" }), "observation.direction: expected a discrete value, got text"),
                (With(o => o.Modalities["mission"] = new ModalityValue { Text = new string('x', 600) }), "observation.mission: text too long: 600 characters, at most 512"),
            };
            foreach (var (request, expected) in corpus)
            {
                var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ActAsync(request));
                Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
                Assert.Contains(expected, e.Status.Detail);
            }
            using var session = client.Session();
            await session.RequestStream.WriteAsync(corpus[6].Request);
            var streamError = await Assert.ThrowsAsync<RpcException>(() => session.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.InvalidArgument, streamError.StatusCode);
            var answer = await client.ActAsync(new ActRequest { Observations = { good } });
            Assert.InRange(answer.Actions.Single(), 0, 6);
        }
    }
}
