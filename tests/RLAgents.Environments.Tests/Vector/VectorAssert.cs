namespace RLAgents.Environments.Tests.Vector;

/// <summary>Step-by-step comparison of two vector environments.</summary>
internal static class VectorAssert
{
    /// <summary>Asserts equal observations, rewards, flags, final observations of ended envs and episode statistics (except wall time).</summary>
    public static void SameStep(IVectorEnv expected, IVectorEnv actual, int t)
    {
        int m = 0;
        Assert.True(expected.Observations.Floats(m).AsSpan().SequenceEqual(actual.Observations.Floats(m)), $"step {t}: observations differ");
        Assert.True(expected.Rewards.SequenceEqual(actual.Rewards), $"step {t}: rewards differ");
        Assert.True(expected.Terminated.SequenceEqual(actual.Terminated), $"step {t}: terminated differs");
        Assert.True(expected.Truncated.SequenceEqual(actual.Truncated), $"step {t}: truncated differs");
        int size = expected.SingleObservationSpace[m].Size;
        for (int i = 0; i < expected.NumEnvs; i++)
        {
            var (a, b) = (expected.Infos[i].Episode, actual.Infos[i].Episode);
            Assert.True(a.HasValue == b.HasValue, $"step {t} env {i}: episode statistics present in one only");
            if (a is { } ea && b is { } eb)
            {
                Assert.Equal(ea.Length, eb.Length);
                Assert.Equal(ea.Return, eb.Return);
            }
            if (expected.AutoresetMode == AutoresetMode.SameStep && (expected.Terminated[i] || expected.Truncated[i]))
                Assert.True(expected.FinalObservations.Floats(m).AsSpan(i * size, size).SequenceEqual(actual.FinalObservations.Floats(m).AsSpan(i * size, size)),
                    $"step {t} env {i}: final observations differ");
        }
    }

    /// <summary>Pre-drawn uniform actions, [steps][numEnvs].</summary>
    public static int[][] Actions(int steps, int numEnvs, int n, ulong seed)
    {
        var rng = new Rng(seed);
        return Enumerable.Range(0, steps).Select(_ => Enumerable.Range(0, numEnvs).Select(_ => rng.NextInt(n)).ToArray()).ToArray();
    }
}
