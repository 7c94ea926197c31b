using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Policies;
using RLAgents.Policies.Distributions;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Algorithms;

/// <summary>
/// A recurrent policy (policy.recurrent): the memory it acts with step by step is the one training replays over whole
/// sequences, rollouts keep it where episodes begin and end, and behaviour cloning on whole episodes teaches it to keep
/// what has left the view.
/// </summary>
public sealed class RecurrentPolicyTests
{
    // A cue in the first step's observation only (x[0] = ±1, 0 afterwards) and a clock (x[1] = t / 8).
    private static readonly ObservationSpace CueSpace = new(new Modality("x", new BoxSpace(-1f, 1f, [2])));

    private static ActorCriticPolicy Policy(bool recurrent, ulong seed, int? memorySize = null) =>
        new(CueSpace, new DiscreteSpace(2), new PolicyOptions { HiddenSizes = [32], ShareStateEstimator = true, Recurrent = recurrent, MemorySize = memorySize }, new Rng(seed));

    private static ObservationBatch Batch(float[,] rows)
    {
        var batch = new ObservationBatch(CueSpace, rows.GetLength(0));
        var floats = batch.Floats(0);
        for (int i = 0; i < rows.GetLength(0); i++) (floats[2 * i], floats[2 * i + 1]) = (rows[i, 0], rows[i, 1]);
        return batch;
    }

    [Theory]
    [InlineData(null)] // H = D = 32
    [InlineData(48)] // a wider memory, projected onto the state
    public void TheSequenceForwardReplaysWhatActingStepByStepComputed(int? memorySize)
    {
        using var scope = NewDisposeScope();
        using var policy = Policy(recurrent: true, seed: 3, memorySize);
        Assert.Equal(memorySize ?? 32, policy.MemorySize);
        const int steps = 5, b = 3;
        var rng = new Rng(9);
        var observations = new float[steps, b, 2];
        for (int t = 0; t < steps; t++)
            for (int i = 0; i < b; i++) (observations[t, i, 0], observations[t, i, 1]) = ((float)rng.Uniform(-1, 1), (float)rng.Uniform(-1, 1));
        // Sequence 1 ends an episode after step 1: step 2 begins a new one.
        var memory = new RecurrentMemory(b, policy.MemorySize);
        var act = new ActResult(b);
        var actions = new long[steps * b];
        var logProbs = new float[steps * b];
        var values = new float[steps * b];
        var selection = ActionSelection.Sample;
        var acting = new Rng(4);
        for (int t = 0; t < steps; t++)
        {
            var rows = new float[b, 2];
            for (int i = 0; i < b; i++) (rows[i, 0], rows[i, 1]) = (observations[t, i, 0], observations[t, i, 1]);
            var input = memory.Attach(policy.Tensorizer.ToInput(Batch(rows)), b);
            policy.Act(input, selection, acting, act);
            memory.Commit(input);
            for (int i = 0; i < b; i++) (actions[t * b + i], logProbs[t * b + i], values[t * b + i]) = (act.Actions[i], act.LogProbs[i], act.Values[i]);
            if (t == 1) memory.EndEpisode(1);
        }

        var all = new float[steps * b, 2];
        for (int t = 0; t < steps; t++)
            for (int i = 0; i < b; i++) (all[t * b + i, 0], all[t * b + i, 1]) = (observations[t, i, 0], observations[t, i, 1]);
        var continues = ones(steps, b);
        continues[2, 1] = tensor(0f);
        var sequence = new SequenceInput(steps, zeros(b, policy.MemorySize), continues);
        var replay = policy.Tensorizer.ToInput(Batch(all));
        replay.Sequence = sequence;
        var evaluation = policy.EvaluateActions(replay, new ActionTensors(tensor(actions), null));
        var replayedLogProbs = evaluation.LogProbs.data<float>().ToArray();
        var replayedValues = evaluation.Values.data<float>().ToArray();
        for (int k = 0; k < steps * b; k++)
        {
            Assert.Equal(logProbs[k], replayedLogProbs[k], 5);
            Assert.Equal(values[k], replayedValues[k], 5);
        }
        // The final memory is the acting memory after the last step.
        var final = sequence.Final!.data<float>().ToArray();
        for (int k = 0; k < final.Length; k++) Assert.Equal(memory.Values[k], final[k], 5);

        // Without the episode boundary, sequence 1's later steps read a different memory (the boundary is what matched).
        var unbroken = policy.Tensorizer.ToInput(Batch(all));
        unbroken.Sequence = new SequenceInput(steps, zeros(b, policy.MemorySize));
        var other = policy.EvaluateActions(unbroken, new ActionTensors(tensor(actions), null)).Values.data<float>().ToArray();
        Assert.NotEqual(values[2 * b + 1], other[2 * b + 1], 4);
        Assert.Equal(values[2 * b + 0], other[2 * b + 0], 5);
    }

    [Fact]
    public void ARecurrentPolicyRefusesAnInputThatDoesNotSayWhichEpisodesItsRowsContinue()
    {
        using var scope = NewDisposeScope();
        using var policy = Policy(recurrent: true, seed: 1);
        var input = policy.Tensorizer.ToInput(Batch(new float[2, 2]));
        var error = Assert.Throws<InvalidOperationException>(() => policy.Logits(input));
        Assert.Contains("policy.recurrent", error.Message);
    }

    [Fact]
    public void ARolloutKeepsTheMemoryItStartedFromSoThatTheUpdateReplaysItsLogProbabilities()
    {
        using var scope = NewDisposeScope();
        var options = new ExperimentOptions
        {
            Name = "recurrent", Seed = 2,
            Env = new EnvironmentOptions { Id = "CartPole-v1", NumEnvs = 4 },
            Policy = new PolicyOptions { HiddenSizes = [32], Recurrent = true },
            Algorithm = new AlgorithmOptions { Kind = AlgorithmKind.Ppo, Ppo = new PpoOptions { RolloutSteps = 64, Minibatches = 2, Epochs = 1 } },
        };
        using var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs);
        using var agent = AgentFactory.CreateAgent(options, env);
        using var ppo = (OnPolicyAlgorithm)AgentFactory.CreateAlgorithm(options, options.Schedule[0], 0, agent, env);
        var policy = (ActorCriticPolicy)ppo.Policy;
        ppo.Iterate(10_000); // the second rollout starts mid-episode, from a memory that is not zero
        var buffer = ppo.Buffer;
        ppo.Collector.CollectRollout(buffer, ActionSelection.Sample);
        Assert.Contains(buffer.InitialMemory!, v => v != 0);
        Assert.Contains(buffer.Ended, e => e); // CartPole's early episodes end inside a 64-step rollout: resets are exercised

        var input = policy.Tensorizer.ToInput(buffer.Observations);
        input.Sequence = new SequenceInput(buffer.Steps, tensor(buffer.InitialMemory!, [buffer.Envs, policy.MemorySize]),
            tensor(buffer.ContinueFlags(), [buffer.Steps, buffer.Envs]));
        var evaluation = policy.EvaluateActions(input, OnPolicyAlgorithm.ActionTensorsOf(buffer));
        var logProbs = evaluation.LogProbs.data<float>().ToArray();
        var values = evaluation.Values.data<float>().ToArray();
        for (int k = 0; k < buffer.Count; k++)
        {
            Assert.Equal(buffer.LogProbs[k], logProbs[k], 4);
            Assert.Equal(buffer.Values[k], values[k], 4);
        }
    }

    /// <summary>Demonstrations whose every action repeats a cue shown only at the first step.</summary>
    private static DemonstrationSet CueDemonstrations(int episodes, Rng rng)
    {
        var set = new DemonstrationSet(CueSpace);
        for (int e = 0; e < episodes; e++)
        {
            int cue = rng.NextInt(2), length = 4 + rng.NextInt(5);
            var observations = new List<Observation>();
            for (int t = 0; t < length; t++)
            {
                var o = new Observation(CueSpace);
                o.Floats(0)[0] = t == 0 ? (cue == 1 ? 1f : -1f) : 0f;
                o.Floats(0)[1] = t / 8f;
                observations.Add(o);
            }
            set.AddEpisode(observations, Enumerable.Repeat(cue, length).ToList(), Enumerable.Repeat(0.0, length).ToList(), 0.99);
        }
        return set;
    }

    /// <summary>Greedy accuracy on the steps after the cue, acting step by step with the policy's memory.</summary>
    private static double AccuracyAfterTheCue(ActorCriticPolicy policy, DemonstrationSet set)
    {
        int correct = 0, total = 0;
        var act = new ActResult(1);
        var memory = RecurrentMemory.For(policy, 1);
        for (int e = 0; e < set.Episodes; e++)
        {
            int start = set.EpisodeStarts[e], end = e + 1 < set.Episodes ? set.EpisodeStarts[e + 1] : set.Count;
            var batch = set.ToBatch();
            memory?.Clear();
            for (int t = start; t < end; t++)
            {
                using var scope = NewDisposeScope();
                var one = new ObservationBatch(CueSpace, 1);
                batch.CopySlot(t, one, 0);
                var input = policy.Tensorizer.ToInput(one);
                memory?.Attach(input, 1);
                policy.Act(input, ActionSelection.Greedy, new Rng(0), act, withValues: false);
                memory?.Commit(input);
                if (t == start) continue;
                total++;
                if (act.Actions[0] == set.Actions[t]) correct++;
            }
        }
        return (double)correct / total;
    }

    [Theory]
    [InlineData(null)]
    [InlineData(8)] // a memory narrower than the state still carries the one bit
    public void CloningWholeEpisodesTeachesTheMemoryToKeepACueThatLeftTheView(int? memorySize)
    {
        var train = CueDemonstrations(64, new Rng(1));
        var test = CueDemonstrations(40, new Rng(2));
        var sft = new SftOptions { Updates = 300, BatchSize = 48, LearningRate = 3e-3, ValueCoefficient = 0 };
        using var recurrent = Policy(recurrent: true, seed: 5, memorySize);
        using var memoryless = Policy(recurrent: false, seed: 5);
        BehaviourCloning.Train(recurrent, train, sft, new Rng(3));
        BehaviourCloning.Train(memoryless, train, sft, new Rng(3));
        double withMemory = AccuracyAfterTheCue(recurrent, test), without = AccuracyAfterTheCue(memoryless, test);
        // Without memory the later steps carry no cue: no better than the majority class. With it, nearly every step.
        Assert.True(withMemory > 0.95, $"recurrent accuracy after the cue {withMemory}");
        Assert.True(without < 0.7, $"memoryless accuracy after the cue {without}");
    }

    [Fact]
    public void AMemoryOfTheStateSizeIsTheDefaultAndOnlyAnotherSizeAddsAProjection()
    {
        using var implicitSize = Policy(recurrent: true, seed: 2);
        using var explicitSize = Policy(recurrent: true, seed: 2, memorySize: 32);
        using var wider = Policy(recurrent: true, seed: 2, memorySize: 80);
        // Same names and shapes when H = D, so checkpoints written before memorySize existed still load.
        var names = implicitSize.named_parameters().Select(p => (p.name, string.Join("x", p.parameter.shape))).ToArray();
        Assert.Equal(names, explicitSize.named_parameters().Select(p => (p.name, string.Join("x", p.parameter.shape))).ToArray());
        Assert.DoesNotContain(names, n => n.name.Contains("projection"));
        var wide = wider.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal([32L, 80L], wide["recurrent.projection.weight"]);
        Assert.Equal([3 * 80L, 32L], wide["recurrent.cell.weight_ih"]);
        Assert.Equal([3 * 80L, 80L], wide["recurrent.cell.weight_hh"]);
    }

    [Fact]
    public void AMemorySizeWithoutARecurrentPolicyIsAConfigurationErrorNamingTheKey()
    {
        var error = Assert.Throws<ConfigurationException>(() => TestPaths.Load("cartpole-ppo.json", ["policy.memorySize=128"]).Validate());
        Assert.Equal("policy.memorySize", error.Path);
        Assert.Contains("recurrent", error.Message);
    }

    [Theory]
    [InlineData("cartpole-dqn.json", "policy.recurrent=true", "replay buffer keeps no memory")]
    [InlineData("cartpole-ppo.json", "policy.recurrent=true\u0001policy.shareStateEstimator=true\u0001algorithm.ppo.minibatches=16", "cannot be split into 16 minibatches")]
    public void ARecurrentConfigThatCannotTrainIsAConfigurationErrorNamingTheKey(string config, string settings, string message)
    {
        var error = Assert.Throws<ConfigurationException>(() => TestPaths.Load(config, settings.Split('\u0001')).Validate());
        Assert.Equal("policy.recurrent", error.Path);
        Assert.Contains(message, error.Message);
    }

}
