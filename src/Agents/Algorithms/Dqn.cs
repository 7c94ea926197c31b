using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Losses;
using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Agents.Algorithms;

/// <summary>
/// DQN (Mnih et al. 2015): ε-greedy collection into an n-step replay buffer; TD regression of
/// Q(s, a) onto R + discount · Q_target(s', a*), with a* = argmax Q_online(s', ·) under Double DQN
/// (argmax Q_target otherwise); the target network follows the online one by hard copies or
/// Polyak averaging. The discount is 0 after termination and γ^k after truncation or k = n steps.
/// </summary>
public sealed class Dqn : IAlgorithm
{
    private readonly QNetworkPolicy _online;
    private readonly QNetworkPolicy _target;
    private readonly DqnOptions _options;
    private readonly LossPipeline _loss;
    private readonly ReplayBuffer _replay;
    private readonly NStepAccumulator _nStep;
    private readonly ReplaySample _sample;
    private readonly AdamOptimizer _adam;
    private readonly Rng _rng;
    private long _iterations, _targetUpdates;

    /// <summary>Creates DQN over <paramref name="env"/>; envs are reset with <paramref name="envSeed"/>.</summary>
    public Dqn(QNetworkPolicy policy, IVectorEnv env, DqnOptions options, Rng collectorRng, Rng learnerRng, long envSeed, IEnumerable<(ILossTerm, double)>? extraTerms = null)
        : this(policy, RolloutCollector.Started(env, policy, collectorRng, envSeed), options, learnerRng, extraTerms)
    {
    }

    /// <summary>Creates DQN over an experience <paramref name="source"/> (which it owns and disposes).</summary>
    public Dqn(QNetworkPolicy policy, IExperienceSource source, DqnOptions options, Rng learnerRng, IEnumerable<(ILossTerm, double)>? extraTerms = null)
    {
        _online = policy;
        _target = policy.CloneNetwork();
        _target.eval();
        foreach (var p in _target.parameters()) p.requires_grad = false;
        _options = options;
        _rng = learnerRng;
        _loss = new LossPipeline(new (ILossTerm, double)[] { (new TdLoss(options.Loss), 1.0) }.Concat(extraTerms ?? []));
        Collector = source;
        _replay = new ReplayBuffer(source.ObservationSpace, options.BufferSize);
        _nStep = new NStepAccumulator(source.ObservationSpace, source.NumEnvs, options.NStep, options.Gamma);
        _sample = new ReplaySample(source.ObservationSpace, options.BatchSize);
        _adam = new AdamOptimizer(policy.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)),
            new AdamOptions { LearningRate = options.LearningRate, Epsilon = options.AdamEpsilon, MaxGradNorm = options.MaxGradNorm });
    }

    /// <inheritdoc />
    public Policy Policy => _online;

    /// <summary>The target network.</summary>
    public QNetworkPolicy Target => _target;

    /// <summary>The replay buffer.</summary>
    public ReplayBuffer Replay => _replay;

    /// <inheritdoc />
    public IExperienceSource Collector { get; }

    /// <inheritdoc />
    public long OptimizerSteps => _adam.StepCount;

    /// <summary>ε at <paramref name="step"/> of <paramref name="totalSteps"/>.</summary>
    public double Epsilon(long step, long totalSteps) => _options.Exploration.ValueAt(step, totalSteps);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Iterate(long totalSteps)
    {
        int n = Collector.NumEnvs;
        int vectorSteps = (_options.TrainFrequency + n - 1) / n;
        Collector.CollectTransitions(vectorSteps, step => ActionSelection.EpsilonGreedy(Epsilon(step, totalSteps)), _nStep, _replay);
        var metrics = new Dictionary<string, double>
        {
            ["epsilon"] = Epsilon(Collector.Steps, totalSteps),
            ["replay_size"] = _replay.Count,
        };
        // Target updates at every TargetUpdateInterval boundary crossed while collecting; k crossings of τ compound to 1 − (1 − τ)^k.
        long boundaries = Collector.Steps / _options.TargetUpdateInterval;
        if (boundaries > _targetUpdates)
        {
            long k = boundaries - _targetUpdates;
            _target.Polyak(_online, _options.Tau >= 1 ? 1 : 1 - Math.Pow(1 - _options.Tau, k));
            _targetUpdates = boundaries;
        }
        if (Collector.Steps >= _options.LearningStarts)
        {
            double progress = Math.Clamp((double)Collector.Steps / totalSteps, 0, 1);
            var sums = new Dictionary<string, double>();
            var counts = new Dictionary<string, int>();
            for (int g = 0; g < _options.GradientSteps; g++)
                // Loss diagnostics on the round's last step only: each one is extra calls and a synchronisation.
                foreach (var (k, v) in TrainStep(progress, diagnostics: g == _options.GradientSteps - 1))
                {
                    sums[k] = sums.GetValueOrDefault(k) + v;
                    counts[k] = counts.GetValueOrDefault(k) + 1;
                }
            foreach (var (k, v) in sums) metrics[k] = v / counts[k];
        }
        metrics["learning_rate"] = _adam.LearningRate;
        _iterations++;
        return metrics;
    }

    private Dictionary<string, double> TrainStep(double progress, bool diagnostics)
    {
        using var scope = NewDisposeScope();
        _replay.Sample(_rng, _sample);
        var observations = _online.Tensorizer.ToInput(_sample.Observations);
        var next = _online.Tensorizer.ToInput(_sample.NextObservations);
        var actions = tensor(_sample.Actions.Select(a => (long)a).ToArray());
        Tensor targets;
        using (no_grad())
        {
            var qNextTarget = _target.QValues(next); // [B, K]
            Tensor qNext;
            if (_options.DoubleDqn)
            {
                var best = _online.QValues(next).argmax(1, keepdim: true); // [B, 1]
                qNext = qNextTarget.gather(1, best).squeeze(1);
            }
            else qNext = qNextTarget.max(1).values;
            targets = TdTargets(tensor(_sample.Returns), tensor(_sample.Discounts), qNext);
        }
        var context = new LossContext(_online, progress) { Replay = new ReplayBatch(observations, actions, targets), Diagnostics = diagnostics };
        var loss = _loss.Total(context);
        _adam.ZeroGrad();
        loss.backward();
        context.Metrics["grad_norm"] = _adam.Step();
        return context.Metrics;
    }

    /// <summary>y = R + discount · Q_next, elementwise over [B] (discount already 0 for terminated transitions).</summary>
    public static Tensor TdTargets(Tensor returns, Tensor discounts, Tensor nextQ) => returns.add(discounts.mul(nextQ));

    /// <inheritdoc />
    public IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors() =>
        ModelWeights.Named(_online, "policy.").Concat(ModelWeights.Named(_target, "target.")).Concat(_adam.StateTensors("optimizer."));

    /// <inheritdoc />
    public AlgorithmState SaveState() =>
        new(Collector.Steps, _iterations, _adam.StepCount, _adam.LearningRate, Collector.Rng.GetState(), _rng.GetState(), _targetUpdates);

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, AlgorithmState state, string source)
    {
        ModelWeights.Load(_online, tensors, source, _ => true, "policy.");
        ModelWeights.Load(_target, tensors, source, _ => true, "target.");
        _adam.LoadState(tensors, "optimizer.", state.OptimizerSteps, source);
        _adam.LearningRate = state.LearningRate;
        Collector.Steps = state.Steps;
        _iterations = state.Iterations;
        _targetUpdates = state.TargetUpdates;
        Collector.Rng.SetState(state.CollectorRng);
        _rng.SetState(state.LearnerRng);
        _nStep.Clear();
    }

    /// <inheritdoc />
    public bool CheckpointsReplay => _options.CheckpointReplay;

    /// <inheritdoc />
    public void SaveReplay(Stream stream) => _replay.Save(stream);

    /// <inheritdoc />
    public void LoadReplay(Stream stream, string source) => _replay.Load(stream, source);

    /// <inheritdoc />
    public void Dispose()
    {
        _adam.Dispose();
        _target.Dispose();
        Collector.Dispose();
    }
}
