using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Wrappers;
using RLAgents.LanguageModel.Onnx;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Export;
using RLAgents.Policies.Multimodal;
using RLAgents.Policies.Networks;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Export;

public sealed class PolicyOnnxExportTests
{
    private static readonly ITokenizer GridWords = TextTokenizers.ForVocabulary(GridWorldVocabulary.Words);

    private static IEnv CartPole() => EnvRegistry.CreateDefault().Make("CartPole-v1");

    private static IEnv GoToLocal(bool description = false) => BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = description });

    private static MultimodalOptions Transformer(FusionMode fusion, FineTuneMode fineTune = FineTuneMode.Full) => new()
    {
        Fusion = fusion,
        MaxTextTokens = 8,
        FusionHiddenSizes = [32],
        Backbone = new BackboneOptions { NLayer = 2, NHead = 4, NEmbd = 32, BlockSize = 128, FineTune = fineTune, LoraRank = 4 },
    };

    private static ActorCriticPolicy ActorCritic(ObservationSpace space, DiscreteSpace actions, PolicyOptions options, IStateEstimatorFactory factory, ulong seed = 3)
    {
        var policy = new ActorCriticPolicy(space, actions, options, factory, new Rng(seed));
        ExportTestKit.Perturb(policy, seed);
        return policy;
    }

    [Fact]
    public void CartPoleActorCriticMatchesTorchOnAThousandObservations()
    {
        using var env = CartPole();
        var batch = RandomObservations.Collect(env, 1000, 11);
        var options = new PolicyOptions { HiddenSizes = [64, 64], ShareStateEstimator = false };
        using var policy = ActorCritic(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, new MlpStateEstimatorFactory(options));
        var export = ExportTestKit.AssertParity(policy, batch);

        var graph = export.Model.Graph!;
        Assert.Equal(["state"], graph.Inputs.Select(i => i.Name));
        Assert.Equal(["logits", "value"], graph.Outputs.Select(o => o.Name));
        Assert.Equal("batch", graph.Inputs[0].Type!.TensorType!.Shape!.Dims[0].Param);
        Assert.Equal(17, export.Model.DefaultOpsetVersion);
        Assert.False(export.Info.IsQNetwork);
    }

    [Theory]
    [InlineData(null)] // H = D = 32
    [InlineData(48)] // a wider memory and its projection onto the state
    public void ARecurrentPolicyExportsItsMemoryAndMatchesTorchStepByStepAcrossAnEpisodeBoundary(int? memorySize)
    {
        using var env = CartPole();
        var options = new PolicyOptions { HiddenSizes = [32], Recurrent = true, MemorySize = memorySize };
        using var policy = ActorCritic(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, new MlpStateEstimatorFactory(options));
        policy.eval();
        var export = PolicyOnnxExporter.Export(policy);
        Assert.Equal(["state", OnnxPolicyInfo.MemoryInput], export.Model.Graph!.Inputs.Select(i => i.Name));
        Assert.Equal(["logits", "value", OnnxPolicyInfo.MemoryOutput], export.Model.Graph.Outputs.Select(o => o.Name));
        var model = ExportTestKit.ToBytes(export);
        Assert.Equal(memorySize ?? 32, OnnxPolicyInfo.Read(OnnxModel.Parse(model, "test"), "test").MemorySize);

        // Six steps of 8 envs; env 3's episode ends after step 2 (its memory is cleared on both sides).
        var steps = Enumerable.Range(0, 6).Select(t => RandomObservations.Collect(env, 8, (ulong)(40 + t))).ToArray();
        var torchMemory = new RecurrentMemory(8, policy.MemorySize);
        var onnxMemory = new float[8 * policy.MemorySize];
        for (int t = 0; t < steps.Length; t++)
        {
            using var scope = NewDisposeScope();
            var input = torchMemory.Attach(policy.Tensorizer.ToInput(steps[t]), 8);
            var (logits, values) = policy.Outputs(input);
            var feed = OnnxInputFeed.For(export).Encode(steps[t]).Append(new OnnxInputArray(OnnxPolicyInfo.MemoryInput, onnxMemory, [8, policy.MemorySize])).ToArray();
            var outputs = ExportTestKit.Ort(model, feed);
            ExportTestKit.AssertClose(logits.data<float>().ToArray(), outputs["logits"], $"step {t} logits");
            ExportTestKit.AssertClose(values!.data<float>().ToArray(), outputs["value"], $"step {t} value");
            ExportTestKit.AssertClose(input.Sequence!.Final!.data<float>().ToArray(), outputs[OnnxPolicyInfo.MemoryOutput], $"step {t} memory");
            torchMemory.Commit(input);
            onnxMemory = outputs[OnnxPolicyInfo.MemoryOutput];
            if (t == 2)
            {
                torchMemory.EndEpisode(3);
                Array.Clear(onnxMemory, 3 * policy.MemorySize, policy.MemorySize);
            }
        }
        Assert.Contains(onnxMemory, v => v != 0);
    }

    [Fact]
    public void QNetworkExportsQValuesWithoutAValueOutput()
    {
        using var env = CartPole();
        var batch = RandomObservations.Collect(env, 1000, 12);
        var options = new PolicyOptions { HiddenSizes = [256, 256], Activation = Activation.Relu, OrthogonalInit = false };
        using var policy = new QNetworkPolicy(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, new Rng(5));
        var export = ExportTestKit.AssertParity(policy, batch);
        Assert.Equal(["q_values"], export.Model.Graph!.Outputs.Select(o => o.Name));
        Assert.True(export.Info.IsQNetwork);
    }

    [Fact]
    public void GridWorldMlpWithSymbolicImageDirectionAndBagOfWordsMatchesTorch()
    {
        using var env = GoToLocal(description: true);
        var batch = RandomObservations.Collect(env, 1000, 13);
        var options = new PolicyOptions { HiddenSizes = [128, 128], ShareStateEstimator = false, EmbeddingSize = 8 };
        using var policy = ActorCritic(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, new MlpStateEstimatorFactory(options, GridWords));
        var export = ExportTestKit.AssertParity(policy, batch);

        var inputs = export.Model.Graph!.Inputs;
        Assert.Equal(env.ObservationSpace.Modalities.Select(m => m.Name), inputs.Select(i => i.Name));
        // The image keeps its shape; text is token ids of any length, with the pad id the graph ignores.
        Assert.Equal(["batch", "7", "7", "3"], inputs[0].Type!.TensorType!.Shape!.Dims.Select(d => d.ToString()));
        Assert.Equal(OnnxDataType.UInt8, inputs[0].Type!.TensorType!.ElementType);
        var mission = export.Info.Text("mission")!;
        Assert.Null(mission.Length);
        Assert.Equal(GridWords.Special.Pad, mission.PadId);
    }

    [Theory]
    [InlineData(FusionMode.Early)]
    [InlineData(FusionMode.Late)]
    [InlineData(FusionMode.CrossAttention)]
    public void TransformerMatchesTorchInEveryFusionModeWithTwoTextModalities(FusionMode fusion)
    {
        using var env = GoToLocal(description: true);
        var batch = RandomObservations.Collect(env, 300, 14);
        var options = new PolicyOptions { Architecture = PolicyArchitecture.Transformer, Multimodal = Transformer(fusion) };
        var factory = new MultimodalStateEstimatorFactory(options.Multimodal, GridWords);
        using var policy = ActorCritic(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, factory);
        var export = ExportTestKit.AssertParity(policy, batch);
        Assert.Equal(8, export.Info.Text("mission")!.Length);
        Assert.Contains(export.Model.Graph!.Nodes, n => n.OpType == "LayerNormalization");
    }

    [Theory]
    [InlineData(FusionMode.Early, false)]
    [InlineData(FusionMode.CrossAttention, false)]
    [InlineData(FusionMode.Early, true)]
    [InlineData(FusionMode.CrossAttention, true)]
    public void CellTextMatchingMatchesTorchWithTwoTextModalities(FusionMode fusion, bool roles)
    {
        using var env = GoToLocal(description: true);
        var batch = RandomObservations.Collect(env, 300, 15);
        var multimodal = Transformer(fusion);
        multimodal.CellTextMatching = true;
        multimodal.CellTextRoles = roles;
        var options = new PolicyOptions { Architecture = PolicyArchitecture.Transformer, Multimodal = multimodal };
        var factory = new MultimodalStateEstimatorFactory(options.Multimodal, GridWords);
        using var policy = ActorCritic(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, factory);
        var export = ExportTestKit.AssertParity(policy, batch);
        Assert.Contains(export.Model.Graph!.Nodes, n => n.OpType == "GatherElements");
        Assert.Contains(export.Model.Graph!.Nodes, n => n.OpType == "ReduceMax");
        Assert.Equal(roles, export.Model.Graph!.Initializers.Any(t => t.Name!.EndsWith("role_position", StringComparison.Ordinal)));
    }

    [Fact]
    public void TransformerWithLoraAdaptersExportsThemMergedAndLeavesTheModelUnmerged()
    {
        using var env = GoToLocal();
        var batch = RandomObservations.Collect(env, 300, 15);
        var options = new PolicyOptions { Architecture = PolicyArchitecture.Transformer, Multimodal = Transformer(FusionMode.CrossAttention, FineTuneMode.Lora) };
        var factory = new MultimodalStateEstimatorFactory(options.Multimodal, GridWords);
        using var policy = ActorCritic(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, factory);
        var export = ExportTestKit.AssertParity(policy, batch);
        var adapted = LanguageModel.Model.AdaptableLinear.FindIn(policy).Select(p => p.Layer).ToList();
        Assert.NotEmpty(adapted);
        Assert.All(adapted, l => Assert.True(l.HasAdapter && !l.IsMerged));
        // One weight per projection: the adapters are folded in, not written on their own.
        var names = export.Model.Graph!.Initializers.Select(t => t.Name!).ToList();
        Assert.DoesNotContain(names, n => n.Contains(".lora_", StringComparison.Ordinal));
        Assert.Equal(adapted.Count, names.Count(n => n.EndsWith(".weight_adapted_t", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(FusionMode.Early)]
    [InlineData(FusionMode.Late)]
    [InlineData(FusionMode.CrossAttention)]
    public void TransformerWithMemoryTokensMatchesTorch(FusionMode fusion)
    {
        using var env = new ObservationHistory(BabyAILevels.Make("BabyAI-GoToRedBallGrey-v0", new GridWorldOptions { IncludeDescription = false }),
            new ObservationHistoryOptions { Steps = 4, Modalities = ["image", "direction"] });
        var batch = RandomObservations.Collect(env, 300, 16);
        var options = new PolicyOptions { Architecture = PolicyArchitecture.Transformer, Multimodal = Transformer(fusion) };
        var factory = new MultimodalStateEstimatorFactory(options.Multimodal, GridWords);
        using var policy = ActorCritic(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, factory);
        ExportTestKit.AssertParity(policy, batch);
    }

    [Fact]
    public void AtOpset15TheTransformerWritesLayerNormAsItsDefinitionAndStillMatches()
    {
        using var env = GoToLocal();
        var batch = RandomObservations.Collect(env, 300, 17);
        var options = new PolicyOptions { Architecture = PolicyArchitecture.Transformer, Multimodal = Transformer(FusionMode.CrossAttention) };
        var factory = new MultimodalStateEstimatorFactory(options.Multimodal, GridWords);
        using var policy = ActorCritic(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, factory);
        var export = ExportTestKit.AssertParity(policy, batch, opset: 15);
        Assert.Equal(15, export.Model.DefaultOpsetVersion);
        Assert.DoesNotContain(export.Model.Graph!.Nodes, n => n.OpType == "LayerNormalization");
    }

    [Fact]
    public void AnOpsetOutsideThirteenToSeventeenIsRefusedInOneLine()
    {
        using var env = CartPole();
        using var policy = new ActorCriticPolicy(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), new PolicyOptions(), new Rng(1));
        var e = Assert.Throws<OnnxExportException>(() => PolicyOnnxExporter.Export(policy, new OnnxExportOptions { Opset = 11 }));
        Assert.Equal("opset 11 is not supported: the exporter writes opsets 13 to 17", e.Message);
    }

    [Fact]
    public void TheBatchAxisIsDynamic()
    {
        using var env = GoToLocal();
        var batch = RandomObservations.Collect(env, 37, 18);
        var options = new PolicyOptions { Architecture = PolicyArchitecture.Transformer, Multimodal = Transformer(FusionMode.Early) };
        using var policy = ActorCritic(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, new MultimodalStateEstimatorFactory(options.Multimodal, GridWords));
        policy.eval();
        var export = PolicyOnnxExporter.Export(policy);
        var bytes = ExportTestKit.ToBytes(export);
        var feed = OnnxInputFeed.For(export);
        var all = ExportTestKit.Ort(bytes, feed.Encode(batch))["logits"];
        var one = ExportTestKit.Ort(bytes, feed.Encode(batch, 5, 1))["logits"];
        int k = env.ActionSpace.AsDiscrete("this test").N;
        ExportTestKit.AssertClose(all.AsSpan(5 * k, k).ToArray(), one, "row 5 alone");
    }

    [Fact]
    public void ExportingToAFileWritesTheTokenizerBesideItAndTheMetadataReadsBack()
    {
        using var dir = new TempDirectory();
        ExportToAFile(dir.Path);
    }

    private static void ExportToAFile(string dir)
    {
        using var env = GoToLocal();
        var batch = RandomObservations.Collect(env, 50, 19);
        var options = new PolicyOptions { Architecture = PolicyArchitecture.Transformer, Multimodal = Transformer(FusionMode.CrossAttention) };
        using var policy = ActorCritic(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, new MultimodalStateEstimatorFactory(options.Multimodal, GridWords));
        policy.eval();
        string path = Path.Combine(dir, "agent.onnx");
        var (export, folders) = PolicyOnnxExporter.ExportTo(policy, path, new OnnxExportOptions { Checkpoint = "phase-000-step-0000001000", Step = 1000 });
        Assert.Equal([Path.Combine(dir, "agent.tokenizer")], folders);
        Assert.True(File.Exists(Path.Combine(dir, "agent.tokenizer", WordLevelTokenizer.VocabFile)));

        var model = OnnxModel.Read(path);
        var info = OnnxPolicyInfo.Read(model, path);
        Assert.True(info.ObservationSpace.SameLayout(env.ObservationSpace));
        Assert.Equal(env.ObservationSpace.ToString(), info.ObservationSpace.ToString());
        Assert.Equal((7, 0), (info.ActionSpace.N, info.ActionSpace.Start));
        Assert.Equal(("phase-000-step-0000001000", 1000L), (info.Checkpoint, info.Step));
        Assert.Equal("agent.tokenizer", info.Text("mission")!.Tokenizer);

        // The feed built from the files beside the model gives the same ids, so the same outputs.
        var fromFiles = OnnxInputFeed.Load(info, dir).Encode(batch);
        var inMemory = OnnxInputFeed.For(export).Encode(batch);
        Assert.Equal((long[])inMemory[2].Data, (long[])fromFiles[2].Data);
        var bytes = File.ReadAllBytes(path);
        ExportTestKit.AssertClose(ExportTestKit.Ort(ExportTestKit.ToBytes(export), inMemory)["logits"], ExportTestKit.Ort(bytes, fromFiles)["logits"], "logits");
    }

    [Fact]
    public void APlugInModalityEncoderFailsInOneLineNamingIt()
    {
        using var env = CartPole();
        var options = new PolicyOptions();
        using var policy = new ActorCriticPolicy(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, new PlugInFactory(options), new Rng(1));
        var e = Assert.Throws<OnnxExportException>(() => PolicyOnnxExporter.Export(policy));
        Assert.StartsWith("actor.encoders.0 (RLAgents.Policies.Tests.Export.PolicyOnnxExportTests+SquaringEncoder) cannot be exported to ONNX", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AModuleWhoseExportLeavesAParameterOutFailsNamingTheParameter()
    {
        using var env = CartPole();
        var options = new PolicyOptions();
        using var policy = new ActorCriticPolicy(env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"), options, new PlugInFactory(options, forgetful: true), new Rng(1));
        var e = Assert.Throws<OnnxExportException>(() => PolicyOnnxExporter.Export(policy));
        Assert.StartsWith("actor.backbone.unused: this parameter does not reach the exported graph", e.Message);
    }

    /// <summary>A plug-in's encoder without an ONNX twin.</summary>
    private sealed class SquaringEncoder(int size) : ModalityEncoder(nameof(SquaringEncoder))
    {
        public override int OutputSize => size;

        public override Tensor forward(Tensor input) => input.mul(input);
    }

    /// <summary>A backbone that claims an export but leaves its second parameter out of it.</summary>
    private sealed class ForgetfulBackbone : Backbone, LanguageModel.Onnx.IOnnxExportable
    {
        private readonly TorchSharp.Modules.Linear layer;
        private readonly TorchSharp.Modules.Parameter unused;

        public ForgetfulBackbone(int inputs) : base(nameof(ForgetfulBackbone))
        {
            layer = nn.Linear(inputs, 8);
            unused = new TorchSharp.Modules.Parameter(zeros(3));
            RegisterComponents();
        }

        public override int InputSize => (int)layer.weight!.shape[1];

        public override int OutputSize => 8;

        public override Tensor forward(Tensor input) => layer.forward(input).add(unused.sum());

        public override string ExportOnnx(OnnxGraphBuilder g, string features) => g.Linear(features, layer.weight!, layer.bias, "layer");
    }

    private sealed class PlugInFactory(PolicyOptions options, bool forgetful = false) : IStateEstimatorFactory
    {
        public StateEstimator Create(ObservationSpace space, Rng rng) => forgetful
            ? new EncoderStateEstimator([new VectorEncoder(space[0].Size)], new ForgetfulBackbone(space[0].Size))
            : new EncoderStateEstimator([new SquaringEncoder(space[0].Size)], new MlpBackbone(space[0].Size, options.HiddenSizes, options.Activation, false, rng));

        public ObservationTensorizer CreateTensorizer(ObservationSpace space) => new(space);
    }
}
