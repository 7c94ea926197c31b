using System.Text.Json;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Training;

/// <summary><c>initFrom</c>: a run that starts from another run's policy weights, anchored to them.</summary>
public class InitFromTests
{
    private static readonly string[] Tiny = RunnerTests.TinyPpo;

    /// <summary>The largest |Δ| between the two checkpoints' policy weights.</summary>
    private static double LargestDifference(string a, string b)
    {
        using var first = TrainedPolicy.Load(a);
        using var second = TrainedPolicy.Load(b);
        var other = second.Policy.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        double largest = 0;
        foreach (var (name, p) in first.Policy.named_parameters())
        {
            using var d = (p - other[name]).abs().max();
            largest = Math.Max(largest, d.item<float>());
        }
        return largest;
    }

    private static ExperimentOptions Anchored(string[] settings, double klAnchor)
    {
        var options = TestPaths.Load("cartpole-ppo.json", settings);
        // One PPO phase of the tiny budget with a KL anchor and the smallest learning rate: the weights barely move.
        var phase = new PhaseOptions { Kind = AlgorithmKind.Ppo, Steps = 128, KlAnchor = klAnchor, Ppo = options.Algorithm!.Ppo };
        phase.Ppo.LearningRate = 1e-8;
        options.Algorithm = null;
        options.Phases = [phase];
        options.Training.TotalSteps = null; // a schedule's budget is its phases' steps
        return options;
    }

    [Fact]
    public void ARunStartsFromTheCheckpointsWeightsAndAnchorsToThem()
    {
        using var dir = new TempDirectory();
        var source = TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", Tiny), dir.Combine("source"));

        // Another seed would initialise other weights; initFrom replaces them with the source's, which the anchor then holds.
        var options = Anchored([.. Tiny, "seed=7", $"initFrom={dir.Combine("source")}"], klAnchor: 0.5);
        var started = TrainingRunner.Run(options, dir.Combine("started"));
        Assert.True(LargestDifference(source.FinalCheckpoint!, started.FinalCheckpoint!) < 1e-5);
        var rows = File.ReadLines(Path.Combine(started.RunDirectory, TrainingRunner.MetricsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(rows, r => r.TryGetProperty("kl_anchor", out _));

        var fresh = TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", [.. Tiny, "seed=7", "training.totalSteps=128", "algorithm.ppo.learningRate=1e-8"]), dir.Combine("fresh"));
        Assert.True(LargestDifference(source.FinalCheckpoint!, fresh.FinalCheckpoint!) > 1e-2);
    }

    [Fact]
    public void ACheckpointOfAnotherPolicyOrNoneAtAllIsAConfigurationErrorAndLeavesNoRunBehind()
    {
        using var dir = new TempDirectory();
        TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", Tiny), dir.Combine("source"));

        var other = TestPaths.Load("cartpole-ppo.json", [.. Tiny, "policy.hiddenSizes=[16]", $"initFrom={dir.Combine("source")}"]);
        var e = Assert.Throws<ConfigurationException>(() => TrainingRunner.Run(other, dir.Combine("other")));
        Assert.Equal("initFrom", e.Path);
        Assert.Contains("tensor 'policy.actor.backbone.layers.1.bias' does not exist in the model", e.Message);
        Assert.Contains("built differently", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(dir.Combine("other")));

        var missing = TestPaths.Load("cartpole-ppo.json", [.. Tiny, $"initFrom={dir.Combine("nothing")}"]);
        e = Assert.Throws<ConfigurationException>(() => TrainingRunner.Run(missing, dir.Combine("missing")));
        Assert.Equal("initFrom", e.Path);
        Assert.Contains(dir.Combine("nothing"), e.Message);
        Assert.False(Directory.Exists(dir.Combine("missing")));
    }

    [Fact]
    public void AKlAnchorWithNothingToAnchorToIsAConfigurationError()
    {
        var options = Anchored(Tiny, klAnchor: 0.1);
        var e = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.Equal("phases[0].klAnchor", e.Path);
        Assert.Contains("initFrom", e.Message);
    }
}
