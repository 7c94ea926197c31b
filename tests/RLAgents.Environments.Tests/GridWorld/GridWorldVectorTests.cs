using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Vector;

namespace RLAgents.Environments.Tests.GridWorld;

public sealed class GridWorldVectorTests
{
    [Fact]
    public void ThreadedAndSyncVectorEnvsAgreeOnBabyAI()
    {
        static IEnv Make(int _) => BabyAILevels.Make("BabyAI-GoToLocal-v0");
        using var sync = new SyncVectorEnv(Make, 6, AutoresetMode.SameStep);
        using var threaded = new ThreadedVectorEnv(Make, 6, AutoresetMode.SameStep, workers: 2);
        sync.Reset(17);
        threaded.Reset(17);
        var rng = new Rng(4UL);
        var actions = new int[6];
        int ended = 0;
        for (int t = 0; t < 300; t++)
        {
            for (int i = 0; i < 6; i++) actions[i] = rng.NextInt(GridConstants.ActionCount);
            sync.Step(actions);
            threaded.Step(actions);
            Assert.Equal(sync.Observations.Bytes(0), threaded.Observations.Bytes(0));
            Assert.Equal(sync.Observations.Ints(1), threaded.Observations.Ints(1));
            Assert.Equal(sync.Observations.Texts(2), threaded.Observations.Texts(2));
            Assert.Equal(sync.Observations.Texts(3), threaded.Observations.Texts(3));
            Assert.Equal(sync.Rewards.ToArray(), threaded.Rewards.ToArray());
            for (int i = 0; i < 6; i++) if (sync.Truncated[i] || sync.Terminated[i]) ended++;
        }
        Assert.True(ended >= 6, "episodes should end and autoreset within 300 steps");
    }
}
