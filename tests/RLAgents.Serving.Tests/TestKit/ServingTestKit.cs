using System.Text;
using System.Text.Json;
using Grpc.Net.Client;
using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies;
using RLAgents.Policies.Export;
using RLAgents.Policies.Multimodal;
using RLAgents.Policies.Tests.Export;
using RLAgents.Serving.Grpc;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Serving.Tests;

/// <summary>Policies built from seeds, servers on ephemeral loopback ports, and clients for both transports.</summary>
internal static class ServingTestKit
{
    public static IEnv CartPole() => EnvRegistry.CreateDefault().Make("CartPole-v1");

    public static IEnv GoToLocal() => BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false });

    /// <summary>A CartPole actor-critic whose weights carry N(0, 0.1²) noise on top of their init, so logits have real gaps.</summary>
    public static ActorCriticPolicy CartPolePolicy(ulong seed = 3)
    {
        using var env = CartPole();
        var options = new PolicyOptions { HiddenSizes = [64, 64], ShareStateEstimator = false };
        var policy = new ActorCriticPolicy(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, new Rng(seed));
        ExportTestKit.Perturb(policy, seed);
        return policy;
    }

    /// <summary>A small GoToLocal Transformer (cross-attention fusion) over GridWorld's words.</summary>
    public static ActorCriticPolicy GridWorldPolicy(ulong seed = 4)
    {
        using var env = GoToLocal();
        var options = new PolicyOptions
        {
            Architecture = PolicyArchitecture.Transformer,
            Multimodal = new MultimodalOptions
            {
                Fusion = FusionMode.CrossAttention, MaxTextTokens = 8,
                Backbone = new BackboneOptions { NLayer = 1, NHead = 2, NEmbd = 16, BlockSize = 64 },
            },
        };
        var factory = new MultimodalStateEstimatorFactory(options.Multimodal, TextTokenizers.ForVocabulary(GridWorldVocabulary.Words));
        var policy = new ActorCriticPolicy(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, factory, new Rng(seed));
        ExportTestKit.Perturb(policy, seed);
        return policy;
    }

    /// <summary>An ONNX Runtime backend on <paramref name="policy"/> exported in memory.</summary>
    public static OnnxPolicyBackend Onnx(Policy policy)
    {
        var export = PolicyOnnxExporter.Export(policy);
        using var stream = new MemoryStream();
        export.Model.Write(stream);
        return new OnnxPolicyBackend(stream.ToArray(), export.Info, OnnxInputFeed.For(export), threads: 1);
    }

    /// <summary>A server on free loopback ports.</summary>
    public static Task<PolicyServer> Start(IPolicyBackend backend, int maxBatch = 16, int delayMicroseconds = 0) =>
        PolicyServer.StartAsync(backend, new PolicyServerOptions { Port = 0, MaxBatch = maxBatch, MaxQueueDelayMicroseconds = delayMicroseconds });

    public static HttpClient Http(PolicyServer server) => new() { BaseAddress = server.Address };

    public static (GrpcChannel Channel, PolicyService.PolicyServiceClient Client) GrpcClient(PolicyServer server)
    {
        var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        return (channel, new PolicyService.PolicyServiceClient(channel));
    }

    /// <summary>POSTs <paramref name="json"/> to /v1/act: the status and the parsed body.</summary>
    public static async Task<(int Status, JsonElement Body)> Act(HttpClient http, string json)
    {
        using var response = await http.PostAsync("/v1/act", new StringContent(json, Encoding.UTF8, "application/json"));
        string body = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }

    /// <summary>The greedy actions TorchSharp's own forward gives.</summary>
    public static int[] Greedy(Policy policy, ObservationBatch batch)
    {
        using var scope = NewDisposeScope();
        var (preferences, _) = policy.Outputs(policy.Tensorizer.ToInput(batch), withValues: false);
        return preferences.argmax(1).data<long>().ToArray().Select(a => (int)a + policy.ActionSpace.AsDiscrete("greedy actions").Start).ToArray();
    }
}
