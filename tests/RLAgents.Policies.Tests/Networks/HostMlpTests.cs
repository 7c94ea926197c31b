using RLAgents.Environments;
using RLAgents.Policies.Distributions;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Networks;

/// <summary>
/// The host forward of small MLPs (issue 16): acting through it gives the tensor forward's outputs to float
/// rounding, reads the live weights (so an optimiser step is seen at once), allocates nothing per call, and is
/// used only where it applies.
/// </summary>
public class HostMlpTests
{
    private static readonly ObservationSpace Vector4 = new(new Modality("state", new BoxSpace(-5, 5, [4])));

    private static ObservationInput Input(Policy policy, int batch, ulong seed)
    {
        var rng = new Rng(seed);
        var obs = new ObservationBatch(policy.ObservationSpace, batch);
        var floats = obs.Floats(0);
        for (int i = 0; i < floats.Length; i++) floats[i] = (float)(rng.NextDouble() * 6 - 3);
        return policy.Tensorizer.ToInput(obs);
    }

    /// <summary>Act's log-probabilities and values against log-softmax and V of the tensor forward (<see cref="Policy.Outputs"/>).</summary>
    private static void AssertActMatchesTensorForward(Policy policy, ObservationInput input, int batch, bool perActionValues)
    {
        var result = new ActResult(batch, policy.ActionSpace.ActionLayout);
        policy.Act(input, ActionSelection.Sample, new Rng(3UL), result);
        var (prefs, values) = policy.Outputs(input);
        var logits = prefs.data<float>().ToArray();
        var v = values!.data<float>().ToArray();
        int k = (int)prefs.shape[1];
        var logProbs = new double[k];
        for (int i = 0; i < batch; i++)
        {
            int a = result.Actions[i];
            if (!perActionValues)
            {
                CategoricalSampler.LogSoftmax(logits.AsSpan(i * k, k), 1, logProbs);
                Assert.InRange(result.LogProbs[i] - logProbs[a], -1e-5, 1e-5);
                Assert.InRange(result.Values[i] - v[i], -1e-5, 1e-5);
            }
            else Assert.InRange(result.Values[i] - v[i * k + a], -1e-5, 1e-5);
        }
    }

    [Theory]
    [InlineData(Activation.Tanh, false)]
    [InlineData(Activation.Tanh, true)]
    [InlineData(Activation.Relu, false)]
    public void ActorCriticActingOnTheHostMatchesTheTensorForward(Activation activation, bool shared)
    {
        using var scope = NewDisposeScope();
        var options = new PolicyOptions { HiddenSizes = [64, 64], Activation = activation, ShareStateEstimator = shared, OrthogonalInit = true };
        var policy = new ActorCriticPolicy(Vector4, new DiscreteSpace(3), options, new Rng(1UL));
        AssertActMatchesTensorForward(policy, Input(policy, 8, 2UL), 8, perActionValues: false);
    }

    [Theory]
    [InlineData(Activation.Relu, 4, 7)]
    [InlineData(Activation.Tanh, 13, 9)]
    [InlineData(Activation.Relu, 4, 37)]
    [InlineData(Activation.Tanh, 21, 64)]
    public void TheHostBackwardAddsAutogradsGradients(Activation activation, int inputs, int batch)
    {
        // Q-network [inputs → 24 → 16 → 3]; loss Σ c ⊙ Q with fixed c, so ∂L/∂Q = c. Batches of 16 rows and more take
        // the blocked product in the forward too; sizes not multiples of 4, 8 or 16 cover every remainder of its blocks.
        // The gradients start non-zero to check the backward adds rather than overwrites.
        using var scope = NewDisposeScope();
        var space = new ObservationSpace(new Modality("state", new BoxSpace(-5, 5, [inputs])));
        var policy = new QNetworkPolicy(space, new DiscreteSpace(3), new PolicyOptions { HiddenSizes = [24, 16], Activation = activation }, new Rng(2UL));
        var input = Input(policy, batch, 8UL);
        var rng = new Rng(9UL);
        var c = Enumerable.Range(0, batch * 3).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var parameters = policy.parameters().ToArray();
        foreach (var p in parameters) p.grad = full_like(p, 0.25f);
        policy.QValues(input).mul(tensor(c).reshape(batch, 3)).sum().backward();
        var expected = parameters.Select(p => p.grad!.data<float>().ToArray()).ToArray();

        foreach (var p in parameters) p.grad!.fill_(0.25f);
        var host = policy.HostNetwork!;
        Assert.True(host.AcceptsTraining(input, batch));
        var x = HostMlp.InPlace(input[0], batch * inputs).ToArray();
        var q = new float[batch * 3];
        host.ForwardForTraining(x, batch, q);
        Assert.Equal(policy.QValues(input).data<float>().ToArray(), q, new Tolerance(1e-5f));
        host.Backward(x, batch, c);
        for (int i = 0; i < parameters.Length; i++)
            Assert.Equal(expected[i], parameters[i].grad!.data<float>().ToArray(), new Tolerance(1e-5f));
    }

    [Fact]
    public void ANetworkWithoutGradientTensorsIsNotTrainedOnTheHost()
    {
        using var scope = NewDisposeScope();
        var policy = new QNetworkPolicy(Vector4, new DiscreteSpace(2), new PolicyOptions { HiddenSizes = [8] }, new Rng(1UL));
        var input = Input(policy, 4, 5UL);
        Assert.True(policy.HostNetwork!.Accepts(input, 4));
        Assert.False(policy.HostNetwork!.AcceptsTraining(input, 4)); // no optimiser has seated gradients yet
    }

    private sealed class Tolerance(float eps) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= eps * Math.Max(1, Math.Abs(y));
        public int GetHashCode(float obj) => 0;
    }

    [Fact]
    public void QNetworkActingOnTheHostMatchesTheTensorForward()
    {
        using var scope = NewDisposeScope();
        var policy = new QNetworkPolicy(Vector4, new DiscreteSpace(2), new PolicyOptions { HiddenSizes = [64, 64], Activation = Activation.Relu }, new Rng(1UL));
        AssertActMatchesTensorForward(policy, Input(policy, 4, 5UL), 4, perActionValues: true);
    }

    [Fact]
    public void AGaussianPolicyOnTheHostCarriesItsLogStdIntoTheDistribution()
    {
        using var scope = NewDisposeScope();
        var action = new BoxSpace(-1, 1, [2]);
        var policy = new ActorCriticPolicy(Vector4, action, new PolicyOptions { HiddenSizes = [16], InitialLogStd = -0.5 }, new Rng(4UL));
        var input = Input(policy, 5, 6UL);
        var result = new ActResult(5, action.ActionLayout, describe: true);
        policy.Act(input, ActionSelection.Sample, new Rng(7UL), result);
        var parameters = policy.Outputs(input).Preferences;
        using var actions = tensor(result.ContinuousActions, [5, 2]);
        var expected = policy.Distribution.LogProb(parameters, new ActionTensors(null, actions)).data<float>().ToArray();
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i], result.LogProbs[i], 4);
        // The description: the means, then σ = exp(log σ) of the state-independent log-std.
        Assert.Equal(MathF.Exp(-0.5f), result.Probabilities[2], 6);
        Assert.Equal(MathF.Exp(-0.5f), result.Probabilities[3], 6);
        // log σ is read in place like the weights: an optimiser's change is seen by the next act.
        using (no_grad()) policy.named_parameters().Single(p => p.name == "log_std").parameter.add_(0.25);
        policy.Act(input, ActionSelection.Sample, new Rng(7UL), result);
        Assert.Equal(MathF.Exp(-0.25f), result.Probabilities[2], 6);
        Assert.Equal(MathF.Exp(-0.25f), result.Probabilities[3], 6);
    }

    [Fact]
    public void TheHostForwardReadsTheWeightsInPlaceSoAnUpdateIsSeenAtOnce()
    {
        using var scope = NewDisposeScope();
        var policy = new ActorCriticPolicy(Vector4, new DiscreteSpace(3), new PolicyOptions { HiddenSizes = [32] }, new Rng(8UL));
        var input = Input(policy, 4, 9UL);
        AssertActMatchesTensorForward(policy, input, 4, perActionValues: false);
        using (no_grad())
            foreach (var p in policy.parameters()) p.add_(0.25);
        AssertActMatchesTensorForward(policy, input, 4, perActionValues: false);
    }

    [Fact]
    public void ItAppliesToOneVectorIntoAnMlpAndBatchesUpToItsGemmLimit()
    {
        using var scope = NewDisposeScope();
        var rng = new Rng(10UL);
        var options = new PolicyOptions { HiddenSizes = [64, 64] };
        var factory = new MlpStateEstimatorFactory(options);
        var vector = factory.Create(Vector4, rng);
        var head = nn.Linear(64, 3);
        var host = HostMlp.TryCreate(vector, head);
        Assert.NotNull(host);
        Assert.Equal((4, 3), (host.InputSize, host.OutputSize));
        var policy = new ActorCriticPolicy(Vector4, new DiscreteSpace(3), options, rng);
        Assert.True(host.Accepts(Input(policy, 8, 11UL), 8));
        // A thousand envs run through HostGemm; past its limit libtorch's GEMM is kept.
        Assert.True(host.Accepts(Input(policy, 1024, 12UL), 1024));
        int large = (int)(HostMlp.MaxGemmMultiplyAdds / host.MultiplyAdds(1)) + 1;
        Assert.False(host.Accepts(Input(policy, large, 12UL), large));
        // Two modalities, or an image encoder: not an MLP on one vector.
        var two = new ObservationSpace(new Modality("a", new BoxSpace(-1, 1, [2])), new Modality("b", new BoxSpace(-1, 1, [2])));
        Assert.Null(HostMlp.TryCreate(factory.Create(two, rng), head));
        var image = new ObservationSpace(new Modality("image", new BoxSpace(0, 10, [3, 3, 3], DType.UInt8)));
        Assert.Null(HostMlp.TryCreate(factory.Create(image, rng), head));
    }

    [Fact]
    public void ALargeBatchActsThroughTheTensorPathWithTheSameResults()
    {
        using var scope = NewDisposeScope();
        var policy = new ActorCriticPolicy(Vector4, new DiscreteSpace(3), new PolicyOptions { HiddenSizes = [64, 64] }, new Rng(13UL));
        int large = (int)(HostMlp.MaxGemmMultiplyAdds / (4 * 64 + 64 * 64 + 64 * 3)) + 1;
        AssertActMatchesTensorForward(policy, Input(policy, large, 14UL), large, perActionValues: false);
    }

    [Fact]
    public void AThousandEnvsActThroughHostGemmOnTwoThreadsWithTheBitsOfOne()
    {
        using var scope = NewDisposeScope();
        var policy = new ActorCriticPolicy(Vector4, new DiscreteSpace(3), new PolicyOptions { HiddenSizes = [64, 64] }, new Rng(18UL));
        var input = Input(policy, 1024, 19UL);
        AssertActMatchesTensorForward(policy, input, 1024, perActionValues: false);
        int threads = torch.get_num_threads();
        try
        {
            var results = new List<ActResult>();
            foreach (int t in new[] { 1, 2 })
            {
                torch.set_num_threads(t);
                Assert.Equal(t == 2, HostMlp.Both(1024L * (4 * 64 + 64 * 64 + 64 * 3)));
                var result = new ActResult(1024);
                policy.Act(input, ActionSelection.Sample, new Rng(20UL), result);
                results.Add(result);
            }
            // Actor and critic on two threads compute what they compute on one: the same bits, not just close.
            Assert.Equal(results[0].LogProbs, results[1].LogProbs);
            Assert.Equal(results[0].Values, results[1].Values);
            Assert.Equal(results[0].Actions, results[1].Actions);
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    [Fact]
    public void ActingOnTheHostAllocatesNothingAndCreatesNoTensors()
    {
        using var scope = NewDisposeScope();
        var policy = new ActorCriticPolicy(Vector4, new DiscreteSpace(3), new PolicyOptions { HiddenSizes = [64, 64] }, new Rng(15UL));
        var input = Input(policy, 8, 16UL);
        var result = new ActResult(8);
        var rng = new Rng(17UL);
        for (int i = 0; i < 10; i++) policy.Act(input, ActionSelection.Sample, rng, result); // JIT and scratch buffers
        static long Created() => DisposeScopeManager.Statistics.CreatedInScopeCount + DisposeScopeManager.Statistics.CreatedOutsideScopeCount;
        long tensors = Created();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) policy.Act(input, ActionSelection.Sample, rng, result);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(tensors, Created());
    }
}
