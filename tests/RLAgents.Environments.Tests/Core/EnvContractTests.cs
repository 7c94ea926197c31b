using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Core;

public sealed class EnvContractTests
{
    [Fact]
    public void DiscreteEnvGivesTheSameStepForAnIntegerAndAnEnvAction()
    {
        var a = new CartPole();
        var b = new CartPole();
        a.Reset(seed: 4);
        b.Reset(seed: 4);
        StepResult ra, rb;
        int t = 0;
        do
        {
            int action = t++ % 3 == 0 ? 1 : 0;
            ra = a.Step(action);
            rb = b.Step(new EnvAction(in action));
            Assert.Equal(ra.Observation.Floats(0).ToArray(), rb.Observation.Floats(0).ToArray());
            Assert.Equal((ra.Reward, ra.Terminated), (rb.Reward, rb.Terminated));
        } while (!ra.Done);
        Assert.True(t > 5);
        b.Reset(seed: 4);
        var wrong = Assert.Throws<InvalidActionException>(() => b.Step(new EnvAction([0, 1], default)));
        Assert.Contains("2 integers and 0 floats", wrong.Message);
    }

    [Fact]
    public void BoxEnvRejectsIntegerStepsAndNonFiniteActionsNamingTheEnvAndElement()
    {
        using var env = EnvRegistry.CreateDefault().Make("Pendulum-v1");
        env.Reset(seed: 0);
        var integer = Assert.Throws<InvalidActionException>(() => env.Step(1));
        Assert.Contains("Pendulum-v1", integer.Message);
        Assert.Contains("Discrete", integer.Message);
        var nan = Assert.Throws<InvalidActionException>(() => env.Step([float.NaN]));
        Assert.Equal("Pendulum-v1: continuous action element 0 is NaN; continuous actions must be finite (Box(float32, [1], -2, 2)).", nan.Message);
        Assert.Equal(0, nan.Element);
        Assert.Throws<InvalidActionException>(() => env.Step([float.NegativeInfinity]));
        Assert.Throws<InvalidActionException>(() => env.Step([0.5f, 0.5f]));
        // Finite out-of-bounds values reach the env, which clips them; the episode goes on.
        Assert.False(env.Step([40f]).Done);
        Assert.Equal(2.0, env.Find<Pendulum>()!.LastTorque);
    }

    [Fact]
    public void EveryActionKindReachesTheEnvThroughWrappersUnchanged()
    {
        var box = new BoxSpace(-1f, 1f, [2, 2]);
        foreach (var (space, discrete, continuous) in new (Space, int[], float[])[]
        {
            (new DiscreteSpace(3, start: 1), [3], []),
            (new MultiDiscreteSpace(2, 3), [1, 2], []),
            (box, [], [0.5f, -1f, 1f, 3f]),
            (EchoEnv.GearAndSteering, [0, 1, 3], [-0.5f, 0.25f]),
        })
        {
            var echo = new EchoEnv(space);
            using var env = new RecordEpisodeStatistics(new TimeLimit(echo, 10));
            Assert.Same(space, env.ActionSpace);
            env.Reset(seed: 1);
            var r = env.Step(new EnvAction(discrete, continuous));
            Assert.Equal(discrete, echo.Last.Discrete);
            Assert.Equal(continuous, echo.Last.Continuous);
            Assert.Equal(discrete.Select(v => (float)v).Concat(continuous), r.Observation.Floats(0).ToArray().Take(discrete.Length + continuous.Length));
        }
    }

    [Fact]
    public void ConvenienceStepFormsBuildTheEnvAction()
    {
        var multi = new EchoEnv(new MultiDiscreteSpace(4, 4));
        multi.Reset(seed: 0);
        multi.Step([3, 1]);
        Assert.Equal([3, 1], multi.Last.Discrete);
        var discrete = new EchoEnv(new DiscreteSpace(5));
        discrete.Reset(seed: 0);
        discrete.Step(4);
        Assert.Equal([4], discrete.Last.Discrete);
        IEnv viaInterface = discrete;
        viaInterface.Step(2);
        Assert.Equal([2], discrete.Last.Discrete);
        Assert.Throws<InvalidActionException>(() => viaInterface.Step(5));
    }

    [Fact]
    public void WrappersValidateAtTheirOwnLevelBeforeTheInnerEnvSeesTheAction()
    {
        var echo = new EchoEnv(EchoEnv.GearAndSteering);
        using var env = new TimeLimit(echo, 10);
        Assert.Throws<InvalidOperationException>(() => env.Step(new EnvAction([0, 0, 0], [0f, 0f])));
        env.Reset(seed: 0);
        var e = Assert.Throws<InvalidActionException>(() => env.Step(new EnvAction([2, 0, 0], [0f, 0f])));
        Assert.Contains("Echo-v0", e.Message);
        Assert.Equal(0, env.ElapsedSteps);
        Assert.Empty(echo.Last.Discrete);
    }

    [Fact]
    public void AnEnvWithoutAStepHookSaysWhichToOverride()
    {
        var none = new HooklessEnv(new DiscreteSpace(2));
        none.Reset(seed: 0);
        Assert.Contains("overrides neither StepCore(int) nor StepCore(EnvAction)", Assert.Throws<NotSupportedException>(() => none.Step(0)).Message);
        var box = new HooklessEnv(new BoxSpace(-1f, 1f, [1]));
        box.Reset(seed: 0);
        Assert.Contains("must override StepCore(EnvAction)", Assert.Throws<NotSupportedException>(() => box.Step([0f])).Message);
    }

    [Fact]
    public void ADiscreteOnlyWrapperKeepsWorkingOnDiscreteEnvsAndRefusesOthersAtConstruction()
    {
        using var discrete = new CountingWrapper(new CartPole());
        discrete.Reset(seed: 0);
        discrete.Step(1);
        discrete.Step(new EnvAction([0], default));
        Assert.Equal(2, discrete.Steps);
        var e = Assert.Throws<UnsupportedActionSpaceException>(() => new CountingWrapper(new Pendulum()));
        Assert.Contains("CountingWrapper", e.Message);
        Assert.Contains("Box(float32, [1], -2, 2)", e.Message);
    }

    [Fact]
    public void AResultWrapperSeesEveryStepOfEveryActionForm()
    {
        using var discrete = new ResultCounter(new CartPole());
        discrete.Reset(seed: 0);
        discrete.Step(1);
        discrete.Step(new EnvAction([0], default));
        Assert.Equal(2, discrete.Results);
        using var box = new ResultCounter(new Pendulum());
        box.Reset(seed: 0);
        box.Step([0.5f]);
        Assert.Equal(1, box.Results);
    }

    [Fact]
    public void EachStepFormReachesTheHookDeclaredLowestInTheHierarchy()
    {
        var both = new BothHooksEnv();
        both.Reset(seed: 0);
        both.Step(1);
        both.Step(new EnvAction([1], default));
        Assert.Equal(["int", "action"], both.Calls);
    }

    [Fact]
    public void ResetAndStepBookkeepingIsTheSameForEnvsAndWrappers()
    {
        IEnv[] levels = [new CartPole(), new TimeLimit(new CartPole(), 3)];
        foreach (var env in levels)
        {
            Assert.Contains("before Reset", Assert.Throws<InvalidOperationException>(() => env.Step(0)).Message);
            env.Reset(seed: 2);
            StepResult r;
            do r = env.Step(1); while (!r.Done);
            Assert.Contains("after the episode ended", Assert.Throws<InvalidOperationException>(() => env.Step(0)).Message);
            Assert.False(((EnvBase)env).InEpisode);
            env.Reset();
            Assert.True(((EnvBase)env).InEpisode);
            env.Dispose();
        }
    }

    /// <summary>A wrapper acting on results only.</summary>
    private sealed class ResultCounter(IEnv inner) : Wrapper(inner)
    {
        public int Results { get; private set; }

        protected override StepResult AfterStep(StepResult inner)
        {
            Results++;
            return inner;
        }
    }

    /// <summary>A discrete env implementing both hooks in the same class: each form keeps its own.</summary>
    private sealed class BothHooksEnv : Env
    {
        private static readonly ObservationSpace Space = ObservationSpace.Single("x", new BoxSpace(0f, 1f, [1]));
        private readonly Observation _obs = new(Space);

        public List<string> Calls { get; } = [];
        public override EnvId Id => new("BothHooks", 0);
        public override ObservationSpace ObservationSpace => Space;
        public override DiscreteSpace ActionSpace { get; } = new(2);
        protected override ResetResult ResetCore() => new(_obs, default);

        protected override StepResult StepCore(int action)
        {
            Calls.Add("int");
            return new StepResult(_obs, 0, false, false, default);
        }

        protected override StepResult StepCore(EnvAction action)
        {
            Calls.Add("action");
            return new StepResult(_obs, 0, false, false, default);
        }
    }

    /// <summary>An env that overrides no step hook.</summary>
    private sealed class HooklessEnv(Space actions) : Env
    {
        private static readonly ObservationSpace Space = ObservationSpace.Single("x", new BoxSpace(0f, 1f, [1]));
        private readonly Observation _obs = new(Space);

        public override EnvId Id => new("Hookless", 0);
        public override ObservationSpace ObservationSpace => Space;
        public override Space ActionSpace => actions;
        protected override ResetResult ResetCore() => new(_obs, default);
    }

    /// <summary>A wrapper written for discrete actions only (overrides StepCore(int)).</summary>
    private sealed class CountingWrapper(IEnv inner) : Wrapper(inner)
    {
        public int Steps { get; private set; }

        protected override StepResult StepCore(int action)
        {
            Steps++;
            return Inner.Step(action);
        }
    }
}
