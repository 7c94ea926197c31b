using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Checking;

/// <summary>
/// Runs any environment — built-in or plug-in — through the contract's checks and reports each by
/// name: spaces match what reset and step return (layout and shape included, on every step), same
/// seed ⇒ same trajectory, reset is required, invalid actions are rejected (discrete elements out of
/// range, NaN or infinite continuous elements), finite Box actions outside the bounds are accepted and
/// handled by the environment (Box action spaces only), terminated/truncated bookkeeping holds (the
/// time limit respected, both flags never set before it), rewards and float observations are finite,
/// and two instances do not share observation buffers. Rollouts draw random actions of any action
/// space from its <see cref="ActionLayout"/>. Check the env as training builds it (the registry's
/// <see cref="EnvRegistry.Make"/>: options, time limit and statistics wrappers). An exception thrown
/// by the environment fails the check that provoked it; the checker itself never throws for a
/// misbehaving environment.
/// </summary>
public static class EnvChecker
{
    /// <summary>Check names, in the order they are reported.</summary>
    public const string Create = "create", ActionSpace = "action-space", StepBeforeReset = "step-before-reset",
        InvalidAction = "invalid-action", OutOfBoundsAction = "out-of-bounds-action", ResetObservation = "reset-observation-in-space", StepObservation = "step-observation-in-space",
        FiniteObservations = "finite-observations", Determinism = "determinism", StepAfterEnd = "step-after-end",
        Bookkeeping = "terminated-truncated", ResetWithoutSeed = "reset-without-seed", Independence = "instances-independent";

    /// <summary>Steps per rollout by default: enough that a fault once in a few thousand steps shows up.</summary>
    public const int DefaultSteps = 10_000;

    /// <summary>
    /// Checks environments made by <paramref name="factory"/> (called up to twice: two instances must
    /// agree on a seeded trajectory and not share buffers). <paramref name="steps"/> random actions drawn from
    /// <paramref name="seed"/> drive each rollout, and every observation, reward and flag is checked;
    /// episodes that end are reset without a seed.
    /// </summary>
    public static EnvCheckReport Check(Func<IEnv> factory, int steps = DefaultSteps, long seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var checks = new List<EnvCheck>();
        IEnv? first = null, second = null;
        try
        {
            first = TryCreate(factory, checks, "first");
            if (first is null) return new EnvCheckReport("environment factory", checks);
            string subject = first.Id.ToString();
            checks.Add(new EnvCheck(Create, CheckOutcome.Passed, $"{subject}: observation {first.ObservationSpace}, actions {first.ActionSpace}"));

            checks.Add(Guard(ActionSpace, () => CheckActionSpace(first)));
            checks.Add(Guard(StepBeforeReset, () => CheckStepBeforeReset(first)));
            checks.Add(Guard(InvalidAction, () => CheckInvalidAction(first, seed)));
            if (HasContinuousElements(first)) checks.Add(Guard(OutOfBoundsAction, () => CheckOutOfBoundsAction(first, seed)));

            int? timeLimit = first.Find<TimeLimit>()?.MaxEpisodeSteps;
            var rollout = new Rollout(first, seed, steps, timeLimit);
            rollout.Run();
            checks.Add(rollout.ResetObservationCheck());
            checks.Add(rollout.StepObservationCheck());
            checks.Add(rollout.FiniteCheck());

            second = TryCreate(factory, checks, "second");
            if (second is not null)
            {
                var replay = new Rollout(second, seed, steps, timeLimit);
                replay.Run();
                checks.Add(CompareTrajectories(rollout, replay));
            }

            checks.Add(rollout.StepAfterEndCheck());
            checks.Add(rollout.BookkeepingCheck());
            checks.Add(Guard(ResetWithoutSeed, () => CheckResetWithoutSeed(first)));
            if (second is not null) checks.Add(Guard(Independence, () => CheckIndependence(first, second, seed)));
            return new EnvCheckReport(subject, checks);
        }
        finally
        {
            first?.Dispose();
            second?.Dispose();
        }
    }

    private static IEnv? TryCreate(Func<IEnv> factory, List<EnvCheck> checks, string which)
    {
        try
        {
            return factory() ?? throw new InvalidOperationException("the factory returned null");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            checks.Add(new EnvCheck(Create, CheckOutcome.Failed, $"creating the {which} instance threw {Describe(e)}"));
            return null;
        }
    }

    private static EnvCheck CheckActionSpace(IEnv env)
    {
        var space = env.ActionSpace;
        if (space is null) return Fail(ActionSpace, "ActionSpace is null");
        if (env.ObservationSpace is null) return Fail(ActionSpace, "ObservationSpace is null");
        var layout = space.ActionLayout;
        var rng = new Rng(0UL);
        var action = new RandomAction(layout);
        for (int i = 0; i < 100; i++)
        {
            action.Draw(rng);
            if (layout.Violation(action.Value) is { } v) return Fail(ActionSpace, $"{space} sampled {action.Value.ToString()}, which it rejects: {v}");
            for (int k = 0; k < layout.ContinuousCount; k++)
            {
                float x = action.Continuous[k];
                if (!(x >= layout.Low[k] && x <= layout.High[k]))
                    return Fail(ActionSpace, $"{space} sampled {x} for continuous element {k}, outside [{layout.Low[k]}, {layout.High[k]}]");
            }
        }
        return Pass(ActionSpace, $"{space}: {layout.DiscreteCount} discrete and {layout.ContinuousCount} continuous elements; samples lie in the space");
    }

    private static bool HasContinuousElements(IEnv env)
    {
        try
        {
            return env.ActionSpace.ActionLayout.ContinuousCount > 0;
        }
        catch (NotSupportedException)
        {
            return false; // reported by the action-space check
        }
    }

    private static EnvCheck CheckStepBeforeReset(IEnv env)
    {
        var action = new RandomAction(env.ActionSpace.ActionLayout);
        action.Draw(new Rng(1UL));
        try
        {
            env.Step(action.Value);
        }
        catch (InvalidOperationException)
        {
            return Pass(StepBeforeReset, "Step before the first Reset throws InvalidOperationException");
        }
        return Fail(StepBeforeReset, "Step before the first Reset did not throw InvalidOperationException");
    }

    private static EnvCheck CheckInvalidAction(IEnv env, long seed)
    {
        env.Reset(seed);
        var layout = env.ActionSpace.ActionLayout;
        var action = new RandomAction(layout);
        var rng = new Rng(unchecked((ulong)seed) ^ 0xBADUL);
        var tried = new List<string>();
        for (int k = 0; k < layout.DiscreteCount; k++)
        {
            foreach (int bad in new[] { layout.DiscreteStarts[k] + layout.DiscreteSizes[k], layout.DiscreteStarts[k] - 1 })
            {
                action.Draw(rng);
                action.Discrete[k] = bad;
                if (Rejects(env, action) is { } problem) return Fail(InvalidAction, $"discrete element {k} = {bad} outside {layout.Space}: {problem}");
                tried.Add($"{bad}");
            }
        }
        for (int k = 0; k < layout.ContinuousCount; k++)
        {
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                action.Draw(rng);
                action.Continuous[k] = bad;
                if (Rejects(env, action) is { } problem) return Fail(InvalidAction, $"continuous element {k} = {bad}: {problem}");
            }
        }
        string discrete = tried.Count > 0 ? $"discrete values {string.Join(", ", tried)}" : "";
        string continuous = layout.ContinuousCount > 0 ? "NaN and ±infinity in every continuous element" : "";
        return Pass(InvalidAction, $"{string.Join(" and ", new[] { discrete, continuous }.Where(t => t.Length > 0))} outside {layout.Space} throw InvalidActionException");
    }

    // Null when stepping with the action throws InvalidActionException; otherwise what happened.
    private static string? Rejects(IEnv env, RandomAction action)
    {
        try
        {
            env.Step(action.Value);
            return "the action was accepted";
        }
        catch (InvalidActionException)
        {
            return null;
        }
    }

    private static EnvCheck CheckOutOfBoundsAction(IEnv env, long seed)
    {
        var layout = env.ActionSpace.ActionLayout;
        var action = new RandomAction(layout);
        var rng = new Rng(unchecked((ulong)seed) ^ 0x00BUL);
        int steps = 0;
        foreach (int side in new[] { 1, -1 })
        {
            env.Reset(seed);
            action.Draw(rng);
            for (int k = 0; k < layout.ContinuousCount; k++)
            {
                // Twice the bound's distance from the other bound (or the bound ± 1 when the other is infinite).
                float lo = layout.Low[k], hi = layout.High[k];
                float bound = side > 0 ? hi : lo;
                if (!float.IsFinite(bound)) continue;
                float range = float.IsFinite(hi - lo) && hi > lo ? hi - lo : 1f;
                action.Continuous[k] = bound + side * range;
            }
            StepResult r;
            try
            {
                r = env.Step(action.Value);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return Fail(OutOfBoundsAction, $"action {action.Value.ToString()} outside the bounds of {layout.Space} threw {Describe(e)}; finite out-of-bounds actions must be handled (clipped) by the environment");
            }
            steps++;
            if (env.ObservationSpace.Violation(r.Observation) is { } v) return Fail(OutOfBoundsAction, $"after action {action.Value.ToString()} outside the bounds: {v}");
            if (!double.IsFinite(r.Reward)) return Fail(OutOfBoundsAction, $"action {action.Value.ToString()} outside the bounds gave reward {r.Reward}");
        }
        return Pass(OutOfBoundsAction, $"{steps} actions beyond the bounds of {layout.Space} were accepted, with observations in the space and finite rewards");
    }

    private static EnvCheck CheckResetWithoutSeed(IEnv env)
    {
        var r = env.Reset();
        if (env.ObservationSpace.Violation(r.Observation) is { } v) return Fail(ResetWithoutSeed, $"unseeded reset: {v}");
        var action = new RandomAction(env.ActionSpace.ActionLayout);
        action.Draw(new Rng(2UL));
        var s = env.Step(action.Value);
        if (env.ObservationSpace.Violation(s.Observation) is { } w) return Fail(ResetWithoutSeed, $"step after unseeded reset: {w}");
        return Pass(ResetWithoutSeed, "Reset() without a seed starts an episode that can be stepped");
    }

    /// <summary>
    /// Vector environments step several instances in turn (or at once, on threads): an observation one instance
    /// returned must not change when another is reset or stepped, as it does when instances share a static buffer.
    /// </summary>
    private static EnvCheck CheckIndependence(IEnv first, IEnv second, long seed)
    {
        var returned = first.Reset(seed).Observation;
        var kept = returned.Clone();
        second.Reset(seed + 1);
        var action = new RandomAction(second.ActionSpace.ActionLayout);
        var rng = new Rng(3UL);
        for (int t = 0; t < 3; t++)
        {
            action.Draw(rng);
            if (second.Step(action.Value).Done) second.Reset();
        }
        if (!returned.ContentEquals(kept))
            return Fail(Independence, $"resetting and stepping a second instance changed the observation the first returned ({FirstDifference(kept, returned)}): the instances share an observation buffer (a static field?), so vector envs would mix their observations");
        return Pass(Independence, "an observation one instance returned stays as it was while another instance resets and steps");
    }

    private static EnvCheck CompareTrajectories(Rollout a, Rollout b)
    {
        if (a.Error is not null || b.Error is not null) return Fail(Determinism, $"a rollout threw {Describe((a.Error ?? b.Error)!)}");
        int n = Math.Min(a.Records.Count, b.Records.Count);
        for (int t = 0; t < n; t++)
        {
            var (x, y) = (a.Records[t], b.Records[t]);
            if (x.Checksum != y.Checksum)
                return Fail(Determinism, $"same seed, same actions: observations differ at record {t} ({x.Label})"
                    + (x.Observation is not null && y.Observation is not null ? $": {FirstDifference(x.Observation, y.Observation)}" : ""));
            if (!x.Reward.Equals(y.Reward) || x.Terminated != y.Terminated || x.Truncated != y.Truncated)
                return Fail(Determinism, $"same seed, same actions: at record {t} ({x.Label}) reward/terminated/truncated are {x.Reward}/{x.Terminated}/{x.Truncated} then {y.Reward}/{y.Terminated}/{y.Truncated}");
        }
        if (a.Records.Count != b.Records.Count) return Fail(Determinism, $"rollouts have {a.Records.Count} and {b.Records.Count} records");
        return Pass(Determinism, $"two instances reset with the same seed gave identical observations, rewards and flags over {n} records");
    }

    private static string FirstDifference(Observation a, Observation b)
    {
        var space = a.Space;
        for (int m = 0; m < space.Count; m++)
        {
            var mod = space[m];
            switch (mod.Storage)
            {
                case ModalityStorage.Float32:
                    Span<float> fa = a.Floats(m), fb = b.Floats(m);
                    for (int i = 0; i < fa.Length; i++)
                        if (BitConverter.SingleToInt32Bits(fa[i]) != BitConverter.SingleToInt32Bits(fb[i])) return $"modality '{mod.Name}'[{i}] {fa[i]:R} vs {fb[i]:R}";
                    break;
                case ModalityStorage.UInt8:
                    Span<byte> ba = a.Bytes(m), bb = b.Bytes(m);
                    for (int i = 0; i < ba.Length; i++)
                        if (ba[i] != bb[i]) return $"modality '{mod.Name}'[{i}] {ba[i]} vs {bb[i]}";
                    break;
                case ModalityStorage.Int32:
                    if (a.GetInt(m) != b.GetInt(m)) return $"modality '{mod.Name}' {a.GetInt(m)} vs {b.GetInt(m)}";
                    break;
                default:
                    if (a.GetText(m) != b.GetText(m)) return $"modality '{mod.Name}' \"{a.GetText(m)}\" vs \"{b.GetText(m)}\"";
                    break;
            }
        }
        return "no element differs";
    }

    private static EnvCheck Guard(string name, Func<EnvCheck> check)
    {
        try
        {
            return check();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Fail(name, $"threw {Describe(e)}");
        }
    }

    internal static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message}";

    internal static EnvCheck Pass(string name, string message) => new(name, CheckOutcome.Passed, message);

    internal static EnvCheck Fail(string name, string message) => new(name, CheckOutcome.Failed, message);
}

/// <summary>Buffers for one action of a layout, redrawn in place.</summary>
internal sealed class RandomAction(ActionLayout layout)
{
    public int[] Discrete { get; } = new int[layout.DiscreteCount];

    public float[] Continuous { get; } = new float[layout.ContinuousCount];

    public EnvAction Value => new(Discrete, Continuous);

    public void Draw(Rng rng) => layout.Sample(rng, Discrete, Continuous);
}
