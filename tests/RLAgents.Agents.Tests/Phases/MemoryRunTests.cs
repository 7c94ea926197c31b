using System.Text.Json;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using static RLAgents.Agents.Tests.Phases.PhaseTestKit;

namespace RLAgents.Agents.Tests.Phases;

/// <summary>Agents with memory across steps (<c>env.memory</c>) trained end to end.</summary>
public sealed class MemoryRunTests
{
    private static ExperimentOptions WithMemory(params PhaseOptions[] phases)
    {
        var options = Options(PolicyArchitecture.Transformer, phases);
        options.Env.Memory = new ObservationHistoryOptions { Steps = 2, Modalities = ["image", "direction"] };
        return options;
    }

    [Fact]
    public void APpoRunWithMemoryTrainsEndToEndAndRepeatsExactly()
    {
        using var temp = new TempDirectory();
        string a = temp.Combine("a"), b = temp.Combine("b");
        try
        {
            var first = TrainingRunner.Run(WithMemory(Ppo(steps: 128)), a);
            TrainingRunner.Run(WithMemory(Ppo(steps: 128)), b);
            Assert.Equal(128, first.EnvSteps);
            var weights = LatestPolicy(a);
            Assert.Contains(weights.Keys, k => k.Contains(".memory.", StringComparison.Ordinal));
            var again = LatestPolicy(b);
            Assert.Equal(weights.Keys.Order(), again.Keys.Order());
            foreach (var (name, values) in weights) Assert.True(values.SequenceEqual(again[name]), $"{name} differs between identical runs");
            static IEnumerable<string> WithoutTime(string dir) => Rows(dir).Select(r => { r.Remove("wall"); return r.ToJsonString(); });
            Assert.Equal(WithoutTime(a), WithoutTime(b));
            Assert.Contains(Rows(a), r => r["approx_kl"] is not null);
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }

    [Fact]
    public void MlpAndQNetworkAgentsTrainWithMemoryToo()
    {
        using var temp = new TempDirectory();
        string mlp = temp.Combine("mlp"), dqn = temp.Combine("dqn");
        try
        {
            var mlpOptions = WithMemory(Sft(expertEpisodes: 2, updates: 5), Ppo(steps: 64));
            mlpOptions.Policy.Architecture = PolicyArchitecture.Mlp;
            Assert.Equal(64, TrainingRunner.Run(mlpOptions, mlp).EnvSteps);
            var dqnPhase = new PhaseOptions
            {
                Kind = AlgorithmKind.Dqn,
                Steps = 128,
                Dqn = new RLAgents.Agents.Algorithms.DqnOptions { LearningStarts = 32, TrainFrequency = 32, GradientSteps = 2, BatchSize = 16, BufferSize = 256 },
            };
            var result = TrainingRunner.Run(WithMemory(dqnPhase), dqn);
            Assert.Equal(128, result.EnvSteps);
            Assert.Contains(LatestPolicy(dqn).Keys, k => k.Contains(".memory.", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(mlp, true);
            Directory.Delete(dqn, true);
        }
    }

    [Fact]
    public void BotDemonstrationsCarryTheHistoryTheWrappedEnvGivesWhenTheirActionsAreReplayed()
    {
        var gridOptions = new GridWorldOptions { IncludeDescription = false };
        var memory = new ObservationHistoryOptions { Steps = 3, Modalities = ["image", "direction"] };
        using var wrapped = new ObservationHistory(BabyAILevels.Make(Level, gridOptions), memory);
        var space = wrapped.ObservationSpace;
        var (set, _) = DemonstrationSet.FromExpert(() => BabyAILevels.Make(Level, gridOptions), space, 2, 77UL, 0.99);
        var batch = set.ToBatch();
        int row = 0;
        // The bot's episodes again, as FromExpert draws them (attempt i seeded from "bot", i; failures skipped).
        using var botEnv = BabyAILevels.Make(Level, gridOptions);
        var expert = Experts.For(botEnv);
        var demos = new List<ExpertEpisode>();
        for (int attempt = 0; demos.Count < 2; attempt++)
            if (Experts.Play(botEnv, expert, unchecked((long)Rng.DeriveSeed(77UL, "bot", attempt))) is { Success: true } d) demos.Add(d);
        foreach (var demo in demos)
        {
            var obs = wrapped.Reset(demo.Seed).Observation;
            for (int t = 0; t < demo.Length; t++)
            {
                var stored = new Observation(space);
                batch.Get(row++, stored);
                Assert.True(stored.ContentEquals(obs), $"demo step {t}: the stored observation differs from the wrapped env's");
                if (t + 1 < demo.Length) obs = wrapped.Step(demo.Actions[t] + wrapped.ActionSpace.AsDiscrete("this test").Start).Observation;
            }
        }
        Assert.Equal(set.Count, row);
        Assert.True(set.Count > 3 * 2, "demonstrations too short to fill the history");
    }

    [Fact]
    public void MemoryOptionsAreBoundStrictlyAndCheckedAgainstTheObservation()
    {
        var unknown = Assert.Throws<ConfigurationException>(() => OptionsBinder.Bind<ExperimentOptions>(
            JsonDocument.Parse("""{ "env": { "id": "BabyAI-GoToRedBallGrey-v0", "memory": { "steps": 2, "frames": 3 } } }""").RootElement, ""));
        Assert.Contains("env.memory.frames", unknown.Message);

        var bound = OptionsBinder.Bind<ExperimentOptions>(
            JsonDocument.Parse("""{ "env": { "id": "BabyAI-GoToRedBallGrey-v0", "numEnvs": 2, "memory": { "steps": 2, "modalities": ["image", "mission"] } } }""").RootElement, "");
        Assert.Equal(2, bound.Env.Memory.Steps);
        var text = Assert.Throws<ConfigurationException>(() => AgentFactory.MakeEnv(bound, 2));
        Assert.Equal("env.memory.modalities[1]", text.Path);
        // Both runners reject it before they create the run directory (nothing is left behind).
        using var temp = new TempDirectory();
        string runDir = temp.Combine("run");
        Assert.Equal("env.memory.modalities[1]", Assert.Throws<ConfigurationException>(() => TrainingRunner.Run(bound, runDir)).Path);
        var phased = Options(PolicyArchitecture.Mlp, Ppo(steps: 16));
        phased.Env = bound.Env;
        Assert.Equal("env.memory.modalities[1]", Assert.Throws<ConfigurationException>(() => TrainingRunner.Run(phased, runDir)).Path);
        Assert.False(Directory.Exists(runDir));

        var off = OptionsBinder.Bind<ExperimentOptions>(JsonDocument.Parse("""{ "env": { "id": "BabyAI-GoToRedBallGrey-v0" } }""").RootElement, "");
        using var plain = AgentFactory.MakeEnv(off, 1);
        Assert.Null(ObservationHistoryLayout.Find(plain.SingleObservationSpace));
    }

    [Fact]
    public void TrainingWithMemoryKeepsTheLiveTensorCountFlat()
    {
        var phased = WithMemory(Ppo(steps: 1_000_000));
        var options = new ExperimentOptions { Seed = 3, Env = phased.Env };
        using var env = AgentFactory.MakeEnv(options, 4);
        using var agent = AgentFactory.CreateAgent(phased, env);
        var ppo = phased.Phases![0].Ppo;
        var (settings, loss) = RLAgents.Agents.Algorithms.Ppo.Configure(ppo);
        using var algorithm = new RLAgents.Agents.Algorithms.OnPolicyAlgorithm((Policies.ActorCriticPolicy)agent.Policy, env, settings, loss, new Rng(2UL), new Rng(3UL), 4);
        for (int i = 0; i < 2; i++) algorithm.Iterate(1_000_000);
        long warm = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 6; i++) algorithm.Iterate(1_000_000);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after <= warm, $"live tensors grew from {warm} to {after} over 6 iterations");
    }
}
