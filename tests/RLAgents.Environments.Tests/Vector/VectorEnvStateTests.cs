using System.Text.Json;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Vector;

namespace RLAgents.Environments.Tests.Vector;

/// <summary>
/// A vector env's captured state, written as a checkpoint writes it (JSON) and restored into a fresh
/// instance, steps on exactly as the original: discrete and Box actions, replayed and batched envs.
/// </summary>
public sealed class VectorEnvStateTests
{
    private const int Envs = 3, Limit = 25;

    [Theory]
    [InlineData("CartPole-v1", VectorizationMode.Batched)]
    [InlineData("MountainCar-v0", VectorizationMode.Batched)]
    [InlineData("MountainCarContinuous-v0", VectorizationMode.Batched)]
    [InlineData("Acrobot-v1", VectorizationMode.Batched)]
    [InlineData("Pendulum-v1", VectorizationMode.Batched)]
    [InlineData("CartPole-v1", VectorizationMode.Sync)]
    [InlineData("Pendulum-v1", VectorizationMode.Sync)]
    [InlineData("MountainCarContinuous-v0", VectorizationMode.Threaded)]
    public void RestoredVectorEnvStepsOnBitForBitAsTheOriginal(string id, VectorizationMode vectorization)
    {
        var registry = EnvRegistry.CreateDefault();
        using var original = VectorEnvs.Make(registry, id, Envs, AutoresetMode.SameStep, vectorization, maxEpisodeSteps: Limit);
        using var restored = VectorEnvs.Make(registry, id, Envs, AutoresetMode.SameStep, vectorization, maxEpisodeSteps: Limit);
        var actions = new ActionBatch(original.SingleActionSpace, Envs);
        var rng = new Rng(17UL);
        original.Reset(seed: 5);
        // Past one time limit, so episodes in progress began both seeded and unseeded (autoreset).
        for (int t = 0; t < Limit + 12; t++)
        {
            actions.Sample(rng);
            original.Step(actions);
        }

        var captured = ((IRestorableVectorEnv)original).CaptureState(out string? reason);
        Assert.True(captured is not null, reason);
        var json = JsonSerializer.Serialize(captured, OptionsBinder.JsonOptions);
        restored.Reset(seed: 99); // somewhere else entirely
        ((IRestorableVectorEnv)restored).RestoreState(JsonSerializer.Deserialize<VectorEnvState>(json, OptionsBinder.JsonOptions)!);
        AssertSameObservations(original, restored, "after the restore");

        int ended = 0;
        for (int t = 0; t < 2 * Limit; t++)
        {
            actions.Sample(rng);
            original.Step(actions);
            restored.Step(actions);
            string at = $"step {t} after the restore";
            AssertSameObservations(original, restored, at);
            Assert.Equal(original.Rewards.ToArray(), restored.Rewards.ToArray());
            Assert.Equal(original.Terminated.ToArray(), restored.Terminated.ToArray());
            Assert.Equal(original.Truncated.ToArray(), restored.Truncated.ToArray());
            for (int i = 0; i < Envs; i++)
            {
                if (original.Infos[i].Episode is not { } stats) continue;
                ended++;
                var other = restored.Infos[i].Episode ?? throw new Xunit.Sdk.XunitException($"env {i}: the restored env did not end its episode at {at}");
                Assert.Equal((stats.Return, stats.Length), (other.Return, other.Length));
            }
        }
        Assert.True(ended >= Envs, $"only {ended} episodes ended after the restore: the statistics were not compared");
    }

    [Fact]
    public void StateOfAnotherKindIsRefusedWithItsKind()
    {
        var registry = EnvRegistry.CreateDefault();
        using var cartPole = VectorEnvs.Make(registry, "CartPole-v1", 2, AutoresetMode.SameStep, VectorizationMode.Batched);
        using var pendulum = VectorEnvs.Make(registry, "Pendulum-v1", 2, AutoresetMode.SameStep, VectorizationMode.Batched);
        cartPole.Reset(seed: 1);
        pendulum.Reset(seed: 1);
        var state = ((IRestorableVectorEnv)cartPole).CaptureState(out _)!;
        var e = Assert.Throws<InvalidDataException>(() => ((IRestorableVectorEnv)pendulum).RestoreState(state));
        Assert.Contains("batched CartPole-v1", e.Message);
    }

    private static void AssertSameObservations(IVectorEnv expected, IVectorEnv actual, string at)
    {
        for (int i = 0; i < Envs; i++)
            Assert.True(ObservationBatches.Checksum(expected.Observations, i) == ObservationBatches.Checksum(actual.Observations, i), $"env {i} differs {at}");
    }
}
