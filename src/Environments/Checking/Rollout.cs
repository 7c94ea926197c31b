using RLAgents.Core;
using static RLAgents.Environments.Checking.EnvChecker;

namespace RLAgents.Environments.Checking;

/// <summary>
/// One seeded random-action rollout of the checker: records every observation (a checksum of each; a
/// clone of the first <see cref="ClonedRecords"/> for the determinism report), reward and flag, and notes
/// what each per-step check saw. Ended episodes are probed with one extra Step (which must throw) and
/// then reset without a seed.
/// </summary>
internal sealed class Rollout(IEnv env, long seed, int steps, int? timeLimit)
{
    /// <summary>Records whose observation is kept whole (later ones keep their checksum only).</summary>
    public const int ClonedRecords = 2000;

    private readonly List<Record> _records = [];
    private string? _resetViolation, _stepViolation, _nonFinite, _afterEndProblem, _bookkeepingProblem;
    private int _episodesEnded, _afterEndProbes, _truncations;
    private readonly List<int> _lengths = [];

    public IReadOnlyList<Record> Records => _records;

    public Exception? Error { get; private set; }

    public void Run()
    {
        var rng = new Rng(unchecked((ulong)seed) ^ 0xC0FFEEUL);
        try
        {
            var action = new RandomAction(env.ActionSpace.ActionLayout);
            var reset = env.Reset(seed);
            Observe(reset.Observation, "reset 0", isReset: true);
            int episode = 0, length = 0;
            for (int t = 0; t < steps; t++)
            {
                action.Draw(rng);
                var r = env.Step(action.Value);
                length++;
                string label = $"episode {episode} step {length}";
                Observe(r.Observation, label, isReset: false);
                _records[^1] = _records[^1] with { Reward = r.Reward, Terminated = r.Terminated, Truncated = r.Truncated };
                if (!double.IsFinite(r.Reward)) _bookkeepingProblem ??= $"{label}: reward {r.Reward} is not finite";
                // The time limit truncates, possibly on a terminating step; an env that sets both flags earlier contradicts itself.
                if (r.Terminated && r.Truncated && length != timeLimit)
                    _bookkeepingProblem ??= $"{label}: terminated and truncated are both true before any time limit (an env ends an episode by terminating it; truncation is the time limit's)";
                if (!r.Terminated && !r.Truncated) continue;

                _episodesEnded++;
                if (r.Truncated) _truncations++;
                _lengths.Add(length);
                ProbeStepAfterEnd(label, action);
                episode++;
                length = 0;
                var next = env.Reset();
                Observe(next.Observation, $"reset {episode}", isReset: true);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Error = e;
        }
    }

    private void ProbeStepAfterEnd(string label, RandomAction valid)
    {
        _afterEndProbes++;
        try
        {
            env.Step(valid.Value);
            _afterEndProblem ??= $"after {label} ended the episode, Step did not throw InvalidOperationException";
        }
        catch (InvalidOperationException)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _afterEndProblem ??= $"after {label} ended the episode, Step threw {Describe(e)} instead of InvalidOperationException";
        }
    }

    private void Observe(Observation? observation, string label, bool isReset)
    {
        if (observation is null) throw new InvalidOperationException($"{label}: the env returned no observation");
        var space = env.ObservationSpace;
        string? violation = space.Violation(observation);
        if (violation is not null)
        {
            if (isReset) _resetViolation ??= $"{label}: {violation}";
            else _stepViolation ??= $"{label}: {violation}";
        }
        if (_nonFinite is null && observation.Space.SameLayout(space)) _nonFinite = NonFinite(observation, label);
        _records.Add(new Record(_records.Count < ClonedRecords ? observation.Clone() : null, Checksum(observation), label, 0, false, false));
    }

    private static string? NonFinite(Observation observation, string label)
    {
        for (int m = 0; m < observation.Space.Count; m++)
        {
            if (observation.Space[m].Storage != ModalityStorage.Float32) continue;
            var values = observation.Floats(m);
            for (int i = 0; i < values.Length; i++)
                if (!float.IsFinite(values[i])) return $"{label}: modality '{observation.Space[m].Name}'[{i}] is {values[i]}";
        }
        return null;
    }

    private string? ErrorText => Error is null ? null : $"the rollout threw {Describe(Error)} after {_records.Count} records";

    public EnvCheck ResetObservationCheck() => ErrorText is { } e ? Fail(ResetObservation, e)
        : _resetViolation is { } v ? Fail(ResetObservation, v)
        : Pass(ResetObservation, $"{_episodesEnded + 1} reset observations lie in the observation space");

    public EnvCheck StepObservationCheck() => ErrorText is { } e ? Fail(StepObservation, e)
        : _stepViolation is { } v ? Fail(StepObservation, v)
        : Pass(StepObservation, $"{steps} step observations lie in the observation space");

    public EnvCheck FiniteCheck() => ErrorText is { } e ? Fail(FiniteObservations, e)
        : _nonFinite is { } v ? Fail(FiniteObservations, v)
        : Pass(FiniteObservations, "no NaN or infinity in float observations");

    public EnvCheck StepAfterEndCheck() => _afterEndProblem is { } p ? Fail(StepAfterEnd, p)
        : _afterEndProbes == 0 ? new EnvCheck(StepAfterEnd, CheckOutcome.NotExercised, $"no episode ended within {steps} steps")
        : Pass(StepAfterEnd, $"Step after each of {_afterEndProbes} ended episodes throws InvalidOperationException");

    public EnvCheck BookkeepingCheck()
    {
        if (ErrorText is { } e) return Fail(Bookkeeping, e);
        if (_bookkeepingProblem is { } p) return Fail(Bookkeeping, p);
        if (timeLimit is int limit)
        {
            if (_lengths.FirstOrDefault(l => l > limit) is > 0 and var tooLong)
                return Fail(Bookkeeping, $"an episode ran {tooLong} steps past the time limit {limit}");
        }
        if (_episodesEnded == 0) return new EnvCheck(Bookkeeping, CheckOutcome.NotExercised, $"no episode ended within {steps} steps");
        return Pass(Bookkeeping, $"{_episodesEnded} episodes ended ({_truncations} truncated); rewards finite; reset after each end starts a new episode");
    }

    /// <summary>CRC-32C of an observation's values, modality by modality (text as UTF-8).</summary>
    private static uint Checksum(Observation o)
    {
        uint crc = Crc32C.Start;
        for (int m = 0; m < o.Space.Count; m++)
        {
            switch (o.Space[m].Storage)
            {
                case ModalityStorage.Float32: crc = Crc32C.Append(crc, System.Runtime.InteropServices.MemoryMarshal.AsBytes(o.Floats(m))); break;
                case ModalityStorage.UInt8: crc = Crc32C.Append(crc, o.Bytes(m)); break;
                case ModalityStorage.Int32: crc = Crc32C.Append(crc, BitConverter.GetBytes(o.GetInt(m))); break;
                default: crc = Crc32C.Append(crc, System.Text.Encoding.UTF8.GetBytes(o.GetText(m) ?? "\0null")); break;
            }
        }
        return Crc32C.Finish(crc);
    }

    /// <summary>One observation (whole for the first records, else null) and its checksum, with the reward and flags of the step that produced it (zeros for resets).</summary>
    public sealed record Record(Observation? Observation, uint Checksum, string Label, double Reward, bool Terminated, bool Truncated);
}
