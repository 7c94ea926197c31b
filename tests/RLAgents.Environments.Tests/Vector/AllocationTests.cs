using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Vector;

/// <summary>
/// Hot paths allocate nothing once warm. Each measurement reads one thread's own counter, so tests
/// running in parallel (and the runtime's background threads) cannot disturb it.
/// </summary>
public sealed class AllocationTests
{
    private const int Steps = 2000;

    [Fact]
    public void ScalarCartpoleWithWrappersStepsWithoutAllocating()
    {
        using var env = EnvRegistry.CreateDefault().Make("CartPole-v1");
        var actions = VectorAssert.Actions(Steps, 1, 2, 3);
        env.Reset(seed: 0);
        Run(env, actions); // warm-up: JIT and tiering
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(env, actions);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void Run(IEnv env, int[][] actions)
        {
            foreach (var a in actions)
                if (env.Step(a[0]).Done) env.Reset();
        }
    }

    [Fact]
    public void NormalizeObservationStepsWithoutAllocating()
    {
        using var env = new NormalizeObservation(new TimeLimit(new CartPole(), 500));
        env.Reset(seed: 0);
        for (int t = 0; t < Steps; t++) if (env.Step(t & 1).Done) env.Reset();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < Steps; t++) if (env.Step(t & 1).Done) env.Reset();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("sync", AutoresetMode.SameStep)]
    [InlineData("sync", AutoresetMode.NextStep)]
    [InlineData("batched", AutoresetMode.SameStep)]
    [InlineData("batched", AutoresetMode.NextStep)]
    [InlineData("batched", AutoresetMode.Disabled)]
    public void SingleThreadVectorStepsDoNotAllocate(string kind, AutoresetMode mode)
    {
        const int n = 8;
        using IVectorEnv vec = kind == "sync"
            ? new SyncVectorEnv(_ => new RecordEpisodeStatistics(new TimeLimit(new CartPole(), 50)), n, mode)
            : new CartPoleVectorEnv(n, mode, maxEpisodeSteps: 50);
        var actions = VectorAssert.Actions(Steps, n, 2, 4);
        vec.Reset(seed: 1);
        Run(vec, actions);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(vec, actions);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(AutoresetMode.SameStep)]
    [InlineData(AutoresetMode.NextStep)]
    public void ThreadedVectorStepsDoNotAllocateOnAnyThread(AutoresetMode mode)
    {
        const int n = 6;
        var probes = new AllocationProbe[n];
        using var vec = new ThreadedVectorEnv(i => probes[i] = new AllocationProbe(new RecordEpisodeStatistics(new TimeLimit(new CartPole(), 50))), n, mode, workers: 3);
        var actions = VectorAssert.Actions(Steps, n, 2, 4);
        vec.Reset(seed: 1);
        Run(vec, actions);
        foreach (var p in probes) p.Mark();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(vec, actions);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        for (int i = 0; i < n; i++)
            Assert.True(probes[i].AllocatedSinceMark == 0, $"env {i}'s worker thread allocated {probes[i].AllocatedSinceMark} bytes");
    }

    [Theory]
    [InlineData("MountainCar-v0")]
    [InlineData("MountainCarContinuous-v0")]
    [InlineData("Acrobot-v1")]
    [InlineData("Pendulum-v1")]
    public void BatchedClassicControlAndBoxActionsStepWithoutAllocating(string id)
    {
        using var vec = VectorEnvs.Make(EnvRegistry.CreateDefault(), id, 8, AutoresetMode.SameStep, VectorizationMode.Batched, maxEpisodeSteps: 30);
        using var sync = VectorEnvs.Make(EnvRegistry.CreateDefault(), id, 3, AutoresetMode.SameStep, maxEpisodeSteps: 30);
        var batches = new[] { new ActionBatch(vec.SingleActionSpace, 8), new ActionBatch(sync.SingleActionSpace, 3) };
        var rng = new Rng(4UL);
        vec.Reset(seed: 1);
        sync.Reset(seed: 1);
        Run(); // warm-up: JIT and tiering
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Run()
        {
            for (int t = 0; t < Steps; t++)
            {
                foreach (var b in batches) b.Sample(rng);
                vec.Step(batches[0]);
                sync.Step(batches[1]);
            }
        }
    }

    private static void Run(IVectorEnv vec, int[][] actions)
    {
        foreach (var a in actions)
        {
            vec.Step(a);
            if (vec.AutoresetMode != AutoresetMode.Disabled) continue;
            for (int i = 0; i < vec.NumEnvs; i++)
                if (vec.Terminated[i] || vec.Truncated[i]) vec.ResetAt(i);
        }
    }

    /// <summary>Reads its stepping thread's allocation counter on every step (each env stays on one worker).</summary>
    private sealed class AllocationProbe(IEnv inner) : Wrapper(inner)
    {
        private long _atMark = -1, _latest;
        private bool _mark;

        public long AllocatedSinceMark => _latest - _atMark;

        public void Mark() => _mark = true;

        protected override StepResult StepCore(int action)
        {
            var r = Inner.Step(action);
            _latest = GC.GetAllocatedBytesForCurrentThread();
            if (_mark) { _atMark = _latest; _mark = false; }
            return r;
        }
    }
}
