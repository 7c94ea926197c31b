using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Training;
using RLAgents.Agents.Losses;
using RLAgents.Agents.Phases;
using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Agents.Algorithms;

/// <summary>
/// DQN (Mnih et al. 2015): ε-greedy collection into an n-step replay buffer; TD regression of
/// Q(s, a) onto R + discount · Q_target(s', a*), with a* = argmax Q_online(s', ·) under Double DQN
/// (argmax Q_target otherwise); the target network follows the online one by hard copies or
/// Polyak averaging. The discount is 0 after termination and γ^k after truncation or k = n steps.
/// With demonstrations (DQfD, Hester et al. 2018) a second buffer holds the demonstrations' n-step
/// transitions for the whole phase; every minibatch draws <see cref="DqfdOptions.BatchFraction"/> of its
/// rows from it, marked so that supervised terms (<see cref="LargeMarginLoss"/>) apply to those rows
/// only, and optional pre-training updates on demonstrations alone come before the first env step.
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
    private readonly ReplayBuffer? _demonstrations;
    private readonly int _demonstrationRows;
    private readonly float[] _demonstrationMask;
    private readonly long[] _sampleActions; // the minibatch's actions as int64, reused every step
    private long _iterations, _targetUpdates;
    internal long HostSteps; // gradient steps taken by HostTrainStep (tests check the host path ran)
    private readonly bool _hostLoss; // the loss is the TD term alone, which HostTrainStep computes
    private float[] _hostQ = [], _hostQNext = [], _hostQNextOnline = [], _hostGrad = []; // [B, K] each

    /// <summary>
    /// Creates DQN over <paramref name="env"/>; envs are reset with <paramref name="envSeed"/>. With
    /// <paramref name="demonstrations"/> (observations in the env's layout), their transitions are replayed
    /// beside the agent's own (add <see cref="LargeMarginLoss"/> to <paramref name="extraTerms"/> for DQfD's supervised term).
    /// </summary>
    public Dqn(QNetworkPolicy policy, IVectorEnv env, DqnOptions options, Rng collectorRng, Rng learnerRng, long envSeed,
        IEnumerable<(ILossTerm, double)>? extraTerms = null, DemonstrationSet? demonstrations = null)
        : this(policy, RolloutCollector.Started(env, policy, collectorRng, envSeed), options, learnerRng, extraTerms, demonstrations)
    {
    }

    /// <summary>Creates DQN over an experience <paramref name="source"/> (which it owns and disposes); demonstrations as above.</summary>
    public Dqn(QNetworkPolicy policy, IExperienceSource source, DqnOptions options, Rng learnerRng,
        IEnumerable<(ILossTerm, double)>? extraTerms = null, DemonstrationSet? demonstrations = null)
    {
        _online = policy;
        _target = policy.CloneNetwork();
        _target.eval();
        foreach (var p in _target.parameters()) p.requires_grad = false;
        _options = options;
        _rng = learnerRng;
        _loss = new LossPipeline(new (ILossTerm, double)[] { (new TdLoss(options.Loss), 1.0) }.Concat(extraTerms ?? []));
        _hostLoss = _loss.Terms.Count(t => t.Weight != 0) == 1;
        Collector = source;
        _replay = new ReplayBuffer(source.ObservationSpace, options.BufferSize);
        _nStep = new NStepAccumulator(source.ObservationSpace, source.NumEnvs, options.NStep, options.Gamma);
        _sample = new ReplaySample(source.ObservationSpace, options.BatchSize);
        _demonstrationMask = new float[options.BatchSize];
        _sampleActions = new long[options.BatchSize];
        if (demonstrations is { Count: > 0 })
        {
            _demonstrations = new ReplayBuffer(source.ObservationSpace, demonstrations.Count);
            demonstrations.FillReplay(_demonstrations, options.NStep, options.Gamma);
            _demonstrationRows = (int)Math.Round(options.BatchSize * options.Demonstrations.BatchFraction);
            Demonstrations = demonstrations.Episodes;
        }
        _adam = new AdamOptimizer(policy.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)),
            new AdamOptions { LearningRate = options.LearningRate, Epsilon = options.AdamEpsilon, MaxGradNorm = options.MaxGradNorm });
    }

    /// <inheritdoc />
    public Policy Policy => _online;

    /// <summary>The target network.</summary>
    public QNetworkPolicy Target => _target;

    /// <summary>The replay buffer.</summary>
    public ReplayBuffer Replay => _replay;

    /// <summary>The demonstrations' transitions (DQfD), or null.</summary>
    public ReplayBuffer? DemonstrationReplay => _demonstrations;

    /// <inheritdoc />
    public long Demonstrations { get; }

    /// <inheritdoc />
    public IExperienceSource Collector { get; }

    /// <inheritdoc />
    public long OptimizerSteps => _adam.StepCount;

    /// <summary>ε at <paramref name="step"/> of <paramref name="totalSteps"/>.</summary>
    public double Epsilon(long step, long totalSteps) => _options.Exploration.ValueAt(step, totalSteps);

    /// <inheritdoc />
    public string? NonFinite { get; private set; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Iterate(long totalSteps)
    {
        NonFinite = null;
        int n = Collector.NumEnvs;
        int vectorSteps = (_options.TrainFrequency + n - 1) / n;
        var pretraining = Collector.Steps == 0 && _iterations == 0 ? Pretrain(vectorSteps * n) : null;
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
        // An n-step transition reaches the replay n steps after it starts, so a small learningStarts can find the replay still empty.
        if (Collector.Steps >= _options.LearningStarts && _replay.Count > 0)
        {
            double progress = Math.Clamp((double)Collector.Steps / totalSteps, 0, 1);
            // Set from progress every round (not decayed in place), so a resumed run steps with the same rates.
            if (_options.AnnealLearningRate) _adam.LearningRate = _options.LearningRate * (1 - progress);
            var round = new GradientRound();
            // Loss diagnostics on the round's last step only: each one is extra calls and a synchronisation.
            for (int g = 0; g < _options.GradientSteps; g++) round.Add(TrainStep(progress, diagnostics: g == _options.GradientSteps - 1));
            round.WriteTo(metrics);
            NonFinite = round.NonFinite;
        }
        metrics["learning_rate"] = _adam.LearningRate;
        foreach (var (k, v) in pretraining ?? []) metrics["pretrain_" + k] = v;
        _iterations++;
        return metrics;
    }

    /// <summary>
    /// DQfD's pre-training: <see cref="DqfdOptions.PretrainUpdates"/> gradient steps on demonstrations alone, the
    /// target network following every as many updates as one target interval of collection brings. Returns the
    /// last update's diagnostics, or null when there is nothing to pre-train.
    /// </summary>
    private Dictionary<string, double>? Pretrain(int stepsPerRound)
    {
        int updates = _options.Demonstrations.PretrainUpdates;
        if (_demonstrations is null || updates == 0) return null;
        long targetEvery = Math.Max(1, _options.TargetUpdateInterval * _options.GradientSteps / Math.Max(1, stepsPerRound));
        Dictionary<string, double>? last = null;
        for (int u = 1; u <= updates; u++)
        {
            var m = TrainStep(0, diagnostics: u == updates, demonstrationsOnly: true);
            if (u == updates) last = m;
            if (u % targetEvery == 0) _target.Polyak(_online, 1);
        }
        _target.Polyak(_online, 1);
        return last;
    }

    private Dictionary<string, double> TrainStep(double progress, bool diagnostics, bool demonstrationsOnly = false)
    {
        using var scope = NewDisposeScope();
        long clock = IterationProfile.Start();
        // Rows [0, B − d) from the agent's replay, [B − d, B) from the demonstrations.
        int demo = _demonstrations is null ? 0 : demonstrationsOnly ? _sample.Count : _demonstrationRows;
        if (demo < _sample.Count) _replay.Sample(_rng, _sample, 0, _sample.Count - demo);
        if (demo > 0) _demonstrations!.Sample(_rng, _sample, _sample.Count - demo, demo);
        var observations = _online.Tensorizer.ToInput(_sample.Observations);
        var next = _online.Tensorizer.ToInput(_sample.NextObservations);
        if (demo == 0 && HostTraining && _hostLoss && _online.HostNetwork is { } host && _target.HostNetwork is { } targetHost
            && host.AcceptsTraining(observations, _sample.Count) && targetHost.Accepts(next, _sample.Count))
            return HostTrainStep(host, targetHost, observations, next, diagnostics, clock);
        for (int i = 0; i < _sampleActions.Length; i++) _sampleActions[i] = _sample.Actions[i];
        var actions = tensor(_sampleActions);
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
        Tensor? demoRows = null;
        if (demo > 0)
        {
            Array.Fill(_demonstrationMask, 0f);
            _demonstrationMask.AsSpan(_sample.Count - demo).Fill(1f);
            demoRows = tensor(_demonstrationMask); // [B]
        }
        var context = new LossContext(_online, progress) { Replay = new ReplayBatch(observations, actions, targets, demoRows), Diagnostics = diagnostics };
        var loss = _loss.Total(context);
        clock = IterationProfile.Stop(ProfileSection.Forward, clock);
        _adam.ZeroGrad();
        loss.backward();
        clock = IterationProfile.Stop(ProfileSection.Backward, clock);
        context.Metrics["grad_norm"] = _adam.Step();
        IterationProfile.Stop(ProfileSection.Optimizer, clock);
        return context.Metrics;
    }

    /// <summary>
    /// Train small MLP Q-networks on the host (<c>HostMlp</c>: forward, TD loss and backward in C# on the live weights and
    /// gradients, then the same optimiser step) when the network, the loss (the TD term alone) and the batch allow it;
    /// false forces the libtorch path. Both compute the same step to float rounding (issue 16: a 64-64 CartPole step is
    /// ≈ 40 libtorch calls, 0.4 ms, against ≈ 0.1 ms of arithmetic on the host).
    /// </summary>
    internal bool HostTraining { get; set; } = true;

    /// <summary>
    /// One TD step on the host, equal to the tensor path's for the TD loss alone: the Double DQN (or max) target from the
    /// target and online networks on s', Q(s, a) from a forward that keeps its activations, ∂L/∂Q [B, K] non-zero at the
    /// taken actions only (Huber: clamp(δ, −1, 1)/B; MSE: 2δ/B, as <c>smooth_l1_loss</c> and <c>mse_loss</c> with mean
    /// reduction), and the backward into the gradients the optimiser reads.
    /// </summary>
    private Dictionary<string, double> HostTrainStep(HostMlp host, HostMlp targetHost, ObservationInput observations, ObservationInput next, bool diagnostics, long clock)
    {
        HostSteps++;
        int b = _sample.Count, k = host.OutputSize;
        var x = HostMlp.InPlace(observations[0], b * host.InputSize);
        var xNext = HostMlp.InPlace(next[0], b * host.InputSize);
        if (_hostQ.Length != b * k) (_hostQ, _hostQNext, _hostQNextOnline, _hostGrad) = (new float[b * k], new float[b * k], new float[b * k], new float[b * k]);
        targetHost.Forward(xNext, b, _hostQNext);
        if (_options.DoubleDqn) host.Forward(xNext, b, _hostQNextOnline);
        host.ForwardForTraining(x, b, _hostQ);
        Array.Clear(_hostGrad);
        double loss = 0, qSum = 0;
        for (int r = 0; r < b; r++)
        {
            // a* = the first maximum (torch.argmax's tie rule) of the online network under Double DQN, else of the target.
            var pick = (_options.DoubleDqn ? _hostQNextOnline : _hostQNext).AsSpan(r * k, k);
            int best = 0;
            for (int a = 1; a < k; a++) if (pick[a] > pick[best]) best = a;
            float target = _sample.Returns[r] + _sample.Discounts[r] * _hostQNext[r * k + best];
            float q = _hostQ[r * k + _sample.Actions[r]];
            float delta = q - target;
            qSum += q;
            if (_options.Loss == TdLossKind.Huber)
            {
                float abs = MathF.Abs(delta);
                loss += abs < 1 ? 0.5 * delta * delta : abs - 0.5;
                _hostGrad[r * k + _sample.Actions[r]] = Math.Clamp(delta, -1f, 1f) / b;
            }
            else
            {
                loss += delta * delta;
                _hostGrad[r * k + _sample.Actions[r]] = 2 * delta / b;
            }
        }
        var metrics = new Dictionary<string, double>();
        if (diagnostics)
        {
            metrics["q_mean"] = (float)(qSum / b);
            metrics["td_loss"] = (float)(loss / b);
        }
        clock = IterationProfile.Stop(ProfileSection.Forward, clock);
        _adam.ZeroGrad();
        host.Backward(x, b, _hostGrad);
        clock = IterationProfile.Stop(ProfileSection.Backward, clock);
        double norm = _adam.Step();
        metrics["grad_norm"] = norm; // not finite when a NaN reached δ: the optimiser skipped the step, as on the tensor path
        IterationProfile.Stop(ProfileSection.Optimizer, clock);
        return metrics;
    }

    /// <summary>y = R + discount · Q_next, elementwise over [B] (discount already 0 for terminated transitions).</summary>
    public static Tensor TdTargets(Tensor returns, Tensor discounts, Tensor nextQ) => returns.addcmul(discounts, nextQ, 1);

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

    /// <summary>Writes the replay buffer, then the n-step transitions still pending (so a resume continues them).</summary>
    public void SaveReplay(Stream stream)
    {
        _replay.Save(stream);
        _nStep.Save(stream);
    }

    /// <summary>Restores what <see cref="SaveReplay"/> wrote; a file without pending n-step transitions leaves none pending.</summary>
    public void LoadReplay(Stream stream, string source)
    {
        _replay.Load(stream, source);
        _nStep.Load(stream, source);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _adam.Dispose();
        _target.Dispose();
        Collector.Dispose();
    }
}
