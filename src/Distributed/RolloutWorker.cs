using System.Diagnostics;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies.Selection;

namespace RLAgents.Distributed;

/// <summary>A worker the learner refused (different config or code version); the message is one line.</summary>
public sealed class WorkerRefusedException(string message) : Exception(message);

/// <summary>
/// One rollout worker's session with a learner: it registers, builds the experiment's envs (its shard of
/// <c>env.numEnvs</c>) and an inference copy of the policy, and then collects batches with the current
/// weights — pulling weights only when the learner's status says its version is stale — and submits them
/// in their packed form. Every batch's action draws come from <c>DeriveSeed(workerSeed, "sequence", seq)</c>
/// and each phase's envs start from <c>DeriveSeed(workerSeed, "env", first sequence)</c>, so a restarted
/// worker with the same id continues its own seed shard. A plain class: <see cref="RolloutWorkerService"/>
/// hosts it, tests drive it directly. Connection failures propagate (the host reconnects).
/// </summary>
public sealed class RolloutWorker : IDisposable
{
    private ILearnerGrain _learner;
    private readonly WorkerHello _hello;
    private readonly TextWriter _log;
    private ExperimentOptions? _options;
    private Registration? _registration;
    private Agent? _agent;
    private PhaseCollector? _collector;
    private long _version = -1, _incarnation, _sequence;
    private TimeSpan _lastCollection = TimeSpan.FromSeconds(1);

    /// <summary>Creates the session; <paramref name="log"/> receives one line per notable event.</summary>
    public RolloutWorker(ILearnerGrain learner, WorkerHello hello, TextWriter log)
    {
        _learner = learner;
        _hello = hello;
        _log = log;
    }

    /// <summary>Talks to <paramref name="learner"/> from now on (a new connection after the old one failed); the next run registers again, keeping the id.</summary>
    public void Attach(ILearnerGrain learner)
    {
        _learner = learner;
        _incarnation = 0;
    }

    /// <summary>The longest a long poll waits at the learner; below the client's response timeout.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The id the learner gave this worker (after registration).</summary>
    public int? WorkerId => _registration?.WorkerId;

    /// <summary>Batches submitted so far, by outcome.</summary>
    public Dictionary<SubmitOutcome, int> Outcomes { get; } = [];

    /// <summary>Env steps collected so far (including batches the learner dropped).</summary>
    public long EnvSteps { get; private set; }

    /// <summary>Runs until the learner says the run is over or <paramref name="cancellation"/> fires.</summary>
    /// <exception cref="WorkerRefusedException">The learner refused the worker.</exception>
    public async Task RunAsync(CancellationToken cancellation)
    {
        var status = await RegisterAsync().ConfigureAwait(false);
        while (!cancellation.IsCancellationRequested && !status.Finished)
        {
            if (status.Incarnation != _incarnation) { status = await RegisterAsync().ConfigureAwait(false); continue; }
            if (status.Phase < 0)
            {
                status = await _learner.WaitForChange(_registration!.WorkerId, _version, MaxWait).ConfigureAwait(false);
                continue;
            }
            if (status.Version - _version > status.PullLag || _version < 0) await PullWeightsAsync().ConfigureAwait(false);
            if (!status.Collect)
            {
                // Wait for new weights or a share to collect; twice a collection's time before collecting anyway (a peer may have died).
                var wait = TimeSpan.FromTicks(Math.Clamp(_lastCollection.Ticks * 2, TimeSpan.FromMilliseconds(200).Ticks, Math.Max(MaxWait.Ticks, TimeSpan.FromMilliseconds(200).Ticks)));
                status = await _learner.WaitForChange(_registration!.WorkerId, _version, wait).ConfigureAwait(false);
                continue;
            }
            var clock = Stopwatch.StartNew();
            (byte[] Data, int Steps) batch;
            try
            {
                if (_collector is null || _collector.Phase != status.Phase) OpenPhase(status.Phase);
                // Env stepping runs on a pool thread, never on the caller's (a grain or host) scheduler.
                batch = await Task.Run(() => _collector!.Collect(_sequence, status.PhaseSteps), cancellation).ConfigureAwait(false);
            }
            catch (EnvFaultException e)
            {
                // The learner stops the run with it (as a local run stops); this worker stops too.
                _log.WriteLine($"worker {WorkerId}: {e.Message}");
                await _learner.ReportFault(_registration!.WorkerId, e.Env, e.Slot, e.Problem).ConfigureAwait(false);
                throw;
            }
            var (data, steps) = batch;
            _lastCollection = clock.Elapsed;
            EnvSteps += steps;
            var header = new BatchHeader
            {
                WorkerId = _registration!.WorkerId, Sequence = _sequence, Incarnation = _incarnation, Phase = status.Phase, Version = _version, EnvSteps = steps,
            };
            SubmitAck ack;
            while (true)
            {
                ack = await _learner.Submit(header, data).ConfigureAwait(false);
                if (ack.Outcome != SubmitOutcome.Busy || cancellation.IsCancellationRequested) break;
                await Task.Delay(20, cancellation).ConfigureAwait(false);
            }
            Outcomes[ack.Outcome] = Outcomes.GetValueOrDefault(ack.Outcome) + 1;
            _sequence++;
            status = ack.Status;
        }
        if (status.Finished) _log.WriteLine($"worker {WorkerId}: the run is over ({EnvSteps} env steps collected)");
    }

    private async Task<LearnerStatus> RegisterAsync()
    {
        var hello = _registration is null ? _hello : new WorkerHello
        {
            RequestedId = _registration.WorkerId, ConfigJson = _hello.ConfigJson, CodeVersion = _hello.CodeVersion, Process = _hello.Process,
        };
        var registration = await _learner.Register(hello).ConfigureAwait(false);
        if (registration.Refused is { } reason) throw new WorkerRefusedException($"refused: {reason}");
        bool first = _registration is null;
        if (_registration is not null && registration.WorkerId != _registration.WorkerId)
            throw new InvalidOperationException($"The learner gave id {registration.WorkerId} to worker {_registration.WorkerId}.");
        _registration = registration;
        _incarnation = registration.Status.Incarnation;
        _sequence = Math.Max(_sequence, registration.NextSequence);
        _version = -1;
        if (_options is null)
        {
            _options = OptionsBinder.Bind<ExperimentOptions>(System.Text.Json.JsonDocument.Parse(registration.ConfigJson).RootElement);
            _options.Validate();
        }
        _collector?.Dispose();
        _collector = null;
        _log.WriteLine(first
            ? $"worker {registration.WorkerId}: registered with the learner of '{_options.Name}' ({registration.ShardEnvs} envs per batch)"
            : $"worker {registration.WorkerId}: registered again (learner restarted), continuing at batch {_sequence}");
        return registration.Status;
    }

    private async Task PullWeightsAsync()
    {
        var reply = await _learner.Weights(_registration!.WorkerId).ConfigureAwait(false);
        if (reply.Data.Length == 0) return;
        _agent ??= NewAgent();
        using var contents = Safetensors.Read(reply.Data, $"weights version {reply.Version}");
        ModelWeights.Load(_agent.Policy, contents.Tensors, $"weights version {reply.Version}");
        if (_version < 0) _log.WriteLine($"worker {_registration.WorkerId}: acting with weights version {reply.Version}");
        _version = reply.Version;
    }

    private Agent NewAgent()
    {
        using var probe = AgentFactory.MakeEnv(_options!, 1);
        var agent = AgentFactory.CreateAgent(_options!, probe);
        agent.Policy.eval();
        return agent;
    }

    private void OpenPhase(int phase)
    {
        _collector?.Dispose();
        _agent ??= NewAgent();
        _collector = new PhaseCollector(_options!, phase, _agent, _registration!.ShardEnvs, _registration.WorkerSeed, _sequence);
    }

    /// <summary>An off-policy phase's env steps per update round, n and γ of its n-step returns (DQN, SAC, TD3).</summary>
    internal static (int TrainFrequency, int NStep, double Gamma) OffPolicy(PhaseOptions phase) => phase.Kind switch
    {
        AlgorithmKind.Dqn => (phase.Dqn.TrainFrequency, phase.Dqn.NStep, phase.Dqn.Gamma),
        AlgorithmKind.Sac => (phase.Sac.TrainFrequency, phase.Sac.NStep, phase.Sac.Gamma),
        AlgorithmKind.Td3 => (phase.Td3.TrainFrequency, phase.Td3.NStep, phase.Td3.Gamma),
        _ => throw new ArgumentException($"{phase.Kind} is not an off-policy algorithm.", nameof(phase)),
    };

    /// <inheritdoc />
    public void Dispose()
    {
        _collector?.Dispose();
        _agent?.Dispose();
    }

    /// <summary>A phase's envs and buffers on the worker.</summary>
    private sealed class PhaseCollector : IDisposable
    {
        private readonly PhaseOptions _phase;
        private readonly ulong _workerSeed;
        private readonly RolloutCollector _collector;
        private readonly RolloutBuffer? _rollout;
        private readonly ReplayBuffer? _staging;
        private readonly NStepAccumulator? _nStep;
        private readonly int _vectorSteps;

        public PhaseCollector(ExperimentOptions options, int phase, Agent agent, int envs, ulong workerSeed, long sequence)
        {
            Phase = phase;
            _phase = options.Schedule[phase];
            _workerSeed = workerSeed;
            var env = AgentFactory.MakeEnv(options, envs);
            _collector = new RolloutCollector(env, agent.Policy, new Rng(0UL));
            _collector.Reset(unchecked((long)Rng.DeriveSeed(Rng.DeriveSeed(workerSeed, "phase", phase), "env", sequence)));
            // training.checkEnvSteps applies where the envs run.
            _collector.CheckSteps = options.Training.CheckEnvSteps;
            var space = env.SingleObservationSpace;
            var layout = env.SingleActionSpace.ActionLayout;
            if (_phase.Kind is AlgorithmKind.Dqn or AlgorithmKind.Sac or AlgorithmKind.Td3)
            {
                var (trainFrequency, nStep, gamma) = OffPolicy(_phase);
                _vectorSteps = (trainFrequency + envs - 1) / envs;
                _nStep = new NStepAccumulator(space, envs, nStep, gamma, layout);
                // n-step transitions out of one batch: at most its steps plus the steps pending from the one before.
                _staging = new ReplayBuffer(space, _vectorSteps * envs + envs * nStep, layout);
            }
            else
            {
                int steps = _phase.Kind switch
                {
                    AlgorithmKind.Ppo => _phase.Ppo.RolloutSteps,
                    AlgorithmKind.A2c => _phase.A2c.RolloutSteps,
                    AlgorithmKind.Reinforce => _phase.Reinforce.RolloutSteps,
                    _ => throw new InvalidOperationException($"{_phase.Kind} collects no experience."),
                };
                _rollout = new RolloutBuffer(space, steps, envs, layout);
            }
        }

        // The action choice at phase step `step`, as the algorithm makes it in a local run: DQN's ε schedule; SAC and TD3
        // act uniformly at random until learningStarts, then SAC samples its policy and TD3 adds Gaussian noise to its mode.
        private ActionSelection Selection(long step) => _phase.Kind switch
        {
            AlgorithmKind.Dqn => ActionSelection.EpsilonGreedy(_phase.Dqn.Exploration.ValueAt(step, _phase.Steps)),
            AlgorithmKind.Sac => step < _phase.Sac.LearningStarts ? ActionSelection.Uniform : ActionSelection.Sample,
            _ => step < _phase.Td3.LearningStarts ? ActionSelection.Uniform : ActionSelection.NoisyGreedy(_phase.Td3.ExplorationNoise),
        };

        public int Phase { get; }

        /// <summary>Collects one batch with the current weights; returns its packed form and env steps.</summary>
        public (byte[] Data, int Steps) Collect(long sequence, long phaseSteps)
        {
            _collector.Rng.Reseed(Rng.DeriveSeed(_workerSeed, "sequence", sequence));
            long before = _collector.Steps;
            if (_rollout is not null)
            {
                _collector.CollectRollout(_rollout, ActionSelection.Sample);
                return (TrajectoryBatch.Pack(_rollout, _collector.DrainEpisodes()), checked((int)(_collector.Steps - before)));
            }
            // ε (DQN) and the end of the random warm-up (SAC, TD3) follow the learner's phase steps, as they do in a local run.
            _collector.Steps = phaseSteps;
            before = phaseSteps;
            _collector.CollectTransitions(_vectorSteps, Selection, _nStep!, _staging!);
            var data = TrajectoryBatch.Pack(_staging!, _collector.DrainEpisodes());
            _staging!.Clear();
            return (data, checked((int)(_collector.Steps - before)));
        }

        public void Dispose() => _collector.Dispose();
    }
}
