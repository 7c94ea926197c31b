using RLAgents.Environments.Checking;
using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Tests.Registry;

namespace RLAgents.Environments.Tests.Checking;

public sealed class EnvCheckerTests
{
    [Fact]
    public void Cartpole_from_the_registry_passes_every_check()
    {
        var registry = EnvRegistry.CreateDefault();
        var report = EnvChecker.Check(() => registry.Make("CartPole-v1"));
        Assert.True(report.Passed, report.ToString());
        Assert.Equal("CartPole-v1", report.Subject);
        Assert.All(report.Checks, c => Assert.Equal(CheckOutcome.Passed, c.Outcome));
        Assert.Equal(12, report.Checks.Count); // the eleven contract checks of a discrete env and instances-independent
    }

    [Fact]
    public void Cartpole_time_limit_bookkeeping_is_exercised()
    {
        var registry = EnvRegistry.CreateDefault();
        var report = EnvChecker.Check(() => registry.Make("CartPole-v1", maxEpisodeSteps: 5), steps: 60);
        Assert.True(report.Passed, report.ToString());
        Assert.Contains("(12 truncated)", report[EnvChecker.Bookkeeping].Message);
    }

    [Theory]
    [InlineData("RLAgents.TestPlugin.Corridor", "Corridor-v0")]
    [InlineData("RLAgents.TestPlugin.CoinFlip", "CoinFlip-v0")]
    public void Plugin_envs_pass(string type, string id)
    {
        var registry = EnvRegistry.CreateDefault();
        var report = EnvChecker.Check(() => registry.Make(EnvRegistryTests.PluginPath + ":" + type));
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(id, report.Subject);
        Assert.DoesNotContain(report.Checks, c => c.Outcome == CheckOutcome.NotExercised);
    }

    [Fact]
    public void Nondeterministic_env_fails_determinism_only()
    {
        var report = EnvChecker.Check(() => new BrokenEnv(BrokenEnv.Fault.Nondeterministic));
        Assert.False(report.Passed);
        Assert.Equal([EnvChecker.Determinism], report.Failures.Select(f => f.Name));
        Assert.Contains("'state'", report[EnvChecker.Determinism].Message);
    }

    [Fact]
    public void Nan_observation_fails_the_finite_check()
    {
        var report = EnvChecker.Check(() => new BrokenEnv(BrokenEnv.Fault.NaN));
        Assert.False(report.Passed);
        var check = report[EnvChecker.FiniteObservations];
        Assert.Equal(CheckOutcome.Failed, check.Outcome);
        Assert.Contains("NaN", check.Message);
        Assert.Contains("step 3", check.Message);
    }

    [Fact]
    public void Observation_outside_the_space_fails_the_step_space_check()
    {
        var report = EnvChecker.Check(() => new BrokenEnv(BrokenEnv.Fault.OutOfBounds));
        Assert.Equal([EnvChecker.StepObservation], report.Failures.Select(f => f.Name));
        Assert.Contains("is outside Box(float32, [2], 0, 1)", report[EnvChecker.StepObservation].Message);
        Assert.Equal(CheckOutcome.Passed, report[EnvChecker.ResetObservation].Outcome);
    }

    [Fact]
    public void Env_without_bookkeeping_fails_reset_and_action_checks()
    {
        var report = EnvChecker.Check(() => new NoBookkeepingEnv());
        var failed = report.Failures.Select(f => f.Name).ToHashSet();
        Assert.Contains(EnvChecker.StepBeforeReset, failed);
        Assert.Contains(EnvChecker.StepAfterEnd, failed);
        Assert.Contains(EnvChecker.InvalidAction, failed);
        Assert.DoesNotContain(EnvChecker.Determinism, failed);
    }

    [Fact]
    public void PendulumFromTheRegistryPassesEveryCheckIncludingOutOfBoundsActions()
    {
        var registry = EnvRegistry.CreateDefault();
        var report = EnvChecker.Check(() => registry.Make("Pendulum-v1"), steps: 450);
        Assert.True(report.Passed, report.ToString());
        Assert.All(report.Checks, c => Assert.Equal(CheckOutcome.Passed, c.Outcome));
        Assert.Equal(13, report.Checks.Count); // the twelve contract checks of a Box-action env and instances-independent
        Assert.Contains("NaN and ±infinity", report[EnvChecker.InvalidAction].Message);
        Assert.Contains("2 actions beyond the bounds", report[EnvChecker.OutOfBoundsAction].Message);
        // Discrete envs have no continuous element to push out of bounds: the check is not listed.
        Assert.Throws<KeyNotFoundException>(() => EnvChecker.Check(() => new CartPole(), steps: 20)[EnvChecker.OutOfBoundsAction]);
    }

    [Fact]
    public void DictActionEnvPassesWithRandomActionsOfEveryPart()
    {
        var report = EnvChecker.Check(() => new Core.EchoEnv(Core.EchoEnv.GearAndSteering), steps: 40);
        Assert.True(report.Passed, report.ToString());
        Assert.Contains("discrete values 2, -2, 2, -1, 4, -1", report[EnvChecker.InvalidAction].Message);
    }

    [Fact]
    public void BoxEnvThatRejectsOutOfBoundsActionsFailsThatCheckOnly()
    {
        var report = EnvChecker.Check(() => new StrictBoxEnv(validatesFinite: true), steps: 60);
        Assert.Equal([EnvChecker.OutOfBoundsAction], report.Failures.Select(f => f.Name));
        Assert.Contains("must be handled (clipped)", report[EnvChecker.OutOfBoundsAction].Message);
    }

    [Fact]
    public void BoxEnvThatAcceptsNanFailsTheInvalidActionCheck()
    {
        var report = EnvChecker.Check(() => new StrictBoxEnv(validatesFinite: false), steps: 60);
        Assert.Contains(EnvChecker.InvalidAction, report.Failures.Select(f => f.Name));
        Assert.Contains("continuous element 0 = NaN: the action was accepted", report[EnvChecker.InvalidAction].Message);
    }

    [Fact]
    public void Throwing_factory_is_reported_not_thrown()
    {
        var report = EnvChecker.Check(() => throw new InvalidOperationException("cannot open the level file"));
        Assert.False(report.Passed);
        Assert.Contains("cannot open the level file", report[EnvChecker.Create].Message);
    }

    [Fact]
    public void Report_text_lists_each_check()
    {
        var report = EnvChecker.Check(() => new CartPole(), steps: 50);
        string text = report.ToString();
        Assert.Contains("PASS determinism", text);
        Assert.Contains("CartPole-v1: passed", text);
        Assert.Throws<KeyNotFoundException>(() => report["nope"]);
    }
}

/// <summary>An env with one deliberate contract violation, ending every episode after 5 steps.</summary>
internal sealed class BrokenEnv(BrokenEnv.Fault fault) : Env
{
    public enum Fault { Nondeterministic, NaN, OutOfBounds }

    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(0f, 1f, [2]));
    private readonly Observation _obs = new(Space);
    private int _t;

    public override EnvId Id => new("Broken", 0);
    public override ObservationSpace ObservationSpace => Space;
    public override DiscreteSpace ActionSpace { get; } = new(3);

    protected override ResetResult ResetCore()
    {
        _t = 0;
        Write();
        return new ResetResult(_obs, default);
    }

    protected override StepResult StepCore(int action)
    {
        _t++;
        Write();
        return new StepResult(_obs, action, _t == 5, false, default);
    }

    private void Write()
    {
        var o = _obs.Floats(0);
        o[0] = fault == Fault.Nondeterministic ? System.Random.Shared.NextSingle() : (float)Random.NextDouble();
        o[1] = _t / 5f;
        if (_t == 3 && fault == Fault.NaN) o[1] = float.NaN;
        if (_t == 4 && fault == Fault.OutOfBounds) o[1] = 1.5f;
    }
}

/// <summary>An IEnv written without the Env base class that forgets reset and action checks.</summary>
internal sealed class NoBookkeepingEnv : IEnv
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(0f, 10f, [1]));
    private readonly Observation _obs = new(Space);
    private int _t;

    public EnvId Id => new("NoBookkeeping", 0);
    public ObservationSpace ObservationSpace => Space;
    public Space ActionSpace { get; } = new DiscreteSpace(2);

    public ResetResult Reset(long? seed = null)
    {
        _t = 0;
        _obs.Floats(0)[0] = 0;
        return new ResetResult(_obs, default);
    }

    public StepResult Step(EnvAction action) => Step(action.Discrete[0]);

    public StepResult Step(int action)
    {
        _t = Math.Min(_t + 1, 10);
        _obs.Floats(0)[0] = _t;
        return new StepResult(_obs, 1, _t % 4 == 0, false, default);
    }

    public void Dispose() { }
}

/// <summary>
/// A Box-action IEnv written without the Env base: it throws on actions outside [−1, 1] (wrong:
/// finite out-of-bounds actions must be handled) and, unless <c>validatesFinite</c>, accepts NaN.
/// </summary>
internal sealed class StrictBoxEnv(bool validatesFinite) : IEnv
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(-1f, 1f, [1]));
    private static readonly BoxSpace Actions = new(-1f, 1f, [1]);
    private readonly Observation _obs = new(Space);
    private bool _inEpisode;
    private int _t;

    public EnvId Id => new("StrictBox", 0);
    public ObservationSpace ObservationSpace => Space;
    public Space ActionSpace => Actions;

    public ResetResult Reset(long? seed = null)
    {
        (_t, _inEpisode) = (0, true);
        _obs.Floats(0)[0] = 0;
        return new ResetResult(_obs, default);
    }

    public StepResult Step(EnvAction action)
    {
        if (!_inEpisode) throw new InvalidOperationException("reset first");
        if (validatesFinite) Actions.ActionLayout.Validate(action, Id);
        float a = action.Continuous[0];
        if (a < -1f || a > 1f) throw new ArgumentOutOfRangeException(nameof(action), a, "outside [-1, 1]");
        _obs.Floats(0)[0] = float.IsNaN(a) ? 0 : a;
        bool done = ++_t == 10;
        _inEpisode = !done;
        return new StepResult(_obs, 0, done, false, default);
    }

    public void Dispose() { }
}

public sealed class RegisteredEnvironmentCheckTests
{
    public static TheoryData<string> RegisteredIds()
    {
        var data = new TheoryData<string>();
        foreach (var r in EnvRegistry.CreateDefault().All) data.Add(r.Id.ToString());
        return data;
    }

    [Theory]
    [MemberData(nameof(RegisteredIds))]
    public void Every_registered_environment_passes_the_checker(string id)
    {
        var registry = EnvRegistry.CreateDefault();
        var report = EnvChecker.Check(() => registry.Make(id), steps: 300);
        Assert.True(report.Passed, report.ToString());
    }
}
