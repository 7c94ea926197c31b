using System.Globalization;
using System.Runtime.InteropServices;
using RLAgents.Environments;
using RLAgents.Environments.Wrappers;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// Replays logged episodes under observation wrappers that were not recorded (an agent's pixel,
/// grayscale, resize or frame-stack wrappers, which sit outside the episode recorder): the log's
/// environment is rebuilt by <see cref="Replayer.CreateEnvironment"/>, a checking layer puts each
/// episode back on it (its seed or start state, then its actions) and compares every observation,
/// reward and flag with the log, and the wrappers above see an ordinary live episode. What they emit
/// is what the agent would have seen had it played those actions.
/// </summary>
public sealed class ObservedReplay : IDisposable
{
    private readonly Source _source;
    private readonly IEnv _outer;

    /// <summary>
    /// Rebuilds the environment of <paramref name="header"/> and wraps it by <paramref name="wrap"/>
    /// (which takes ownership, as wrappers do).
    /// </summary>
    /// <exception cref="EpisodeLogEnvironmentException">The log's environment cannot be rebuilt.</exception>
    public ObservedReplay(Replayer replayer, EpisodeLogHeader header, Func<IEnv, IEnv> wrap)
    {
        ArgumentNullException.ThrowIfNull(replayer);
        ArgumentNullException.ThrowIfNull(wrap);
        _source = new Source(replayer.CreateEnvironment(header), header);
        _outer = wrap(_source);
    }

    /// <summary>The observations the wrappers emit.</summary>
    public ObservationSpace ObservationSpace => _outer.ObservationSpace;

    /// <summary>
    /// Replays <paramref name="episode"/> and returns the wrapped observation before each of its
    /// actions (copies, [episode.Length]).
    /// </summary>
    /// <exception cref="InvalidDataException">The replay diverges from the log (the message names episode, step and what differs).</exception>
    public Observation[] Replay(RecordedEpisode episode)
    {
        ArgumentNullException.ThrowIfNull(episode);
        _source.Episode = episode;
        var observations = new Observation[episode.Length];
        // The seed given here is ignored: the source starts the episode as it was logged.
        var observation = _outer.Reset(episode.Seed).Observation;
        for (int t = 0; t < episode.Length; t++)
        {
            observations[t] = observation.Clone();
            var step = episode.ActionFloats > 0 ? _outer.Step(episode.ActionAt(t, _outer.ActionSpace.ActionLayout)) : _outer.Step(episode.Actions[t]);
            observation = step.Observation;
            if ((step.Terminated || step.Truncated) && t + 1 < episode.Length)
                throw new InvalidDataException($"episode {episode.Index}, step {t}: the wrapped environment ended the episode, the log goes on to step {episode.Length}");
        }
        return observations;
    }

    /// <inheritdoc />
    public void Dispose() => _outer.Dispose();

    /// <summary>The log's environment, started and checked against the episode being replayed.</summary>
    private sealed class Source(IEnv inner, EpisodeLogHeader header) : Wrapper(inner)
    {
        private int _t;

        public RecordedEpisode? Episode { get; set; }

        protected override ResetResult ResetCore(long? seed)
        {
            var e = Episode ?? throw new InvalidOperationException("No episode to replay.");
            _t = 0;
            ResetResult start;
            if (e.Seed is long s) start = Inner.Reset(s);
            else if (e.StartState is string state) start = new ResetResult(StartStates.ResetTo(Inner, state), default);
            else throw new InvalidDataException($"episode {e.Index} has neither a seed nor a start state, so it cannot be replayed");
            Check(Replayer.CompareObservation(e, header, start.Observation, 0));
            return start;
        }

        protected override StepResult StepCore(int action)
        {
            CheckInEpisode();
            return Checked(new EnvAction(in action), Inner.Step(action));
        }

        protected override StepResult StepCore(EnvAction action)
        {
            CheckInEpisode();
            return Checked(action, Inner.Step(action));
        }

        private void CheckInEpisode()
        {
            var e = Episode!;
            if (_t >= e.Length) throw new InvalidDataException($"episode {e.Index} has {e.Length} steps; the replay went on");
        }

        private StepResult Checked(EnvAction action, StepResult r)
        {
            var e = Episode!;
            int t = _t++;
            bool same = (action.Discrete.IsEmpty || action.Discrete[0] == e.Actions[t])
                && MemoryMarshal.Cast<float, int>(action.Continuous).SequenceEqual(MemoryMarshal.Cast<float, int>(e.ContinuousActionAt(t)));
            if (!same) throw new InvalidOperationException($"episode {e.Index}, step {t}: replayed action {action.ToString()}, logged {e.DescribeAction(t)}");
            if (BitConverter.DoubleToInt64Bits(r.Reward) != BitConverter.DoubleToInt64Bits(e.Rewards[t]))
                Check(new Divergence(e.Index, t, DivergenceKind.Reward, null, e.Rewards[t].ToString("R", CultureInfo.InvariantCulture), r.Reward.ToString("R", CultureInfo.InvariantCulture)));
            if (r.Terminated != e.Terminated[t] || r.Truncated != e.Truncated[t])
                Check(new Divergence(e.Index, t, r.Terminated != e.Terminated[t] ? DivergenceKind.Terminated : DivergenceKind.Truncated, null,
                    $"{e.Terminated[t]}/{e.Truncated[t]}", $"{r.Terminated}/{r.Truncated}"));
            Check(Replayer.CompareObservation(e, header, r.Observation, t + 1));
            return r;
        }

        private static void Check(Divergence? divergence)
        {
            if (divergence is not null) throw new InvalidDataException($"the replay diverges from the log: {divergence}");
        }
    }
}
