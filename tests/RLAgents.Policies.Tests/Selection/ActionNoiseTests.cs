using RLAgents.Environments;
using RLAgents.Policies.Distributions;
using RLAgents.Policies.Selection;

namespace RLAgents.Policies.Tests.Selection;

/// <summary>The Ornstein–Uhlenbeck exploration process: its statistics, per-slot state, restarts and exact checkpoints, and TD3's acting through it.</summary>
public class ActionNoiseTests
{
    [Fact]
    public void DrawsHaveTheStationarySpreadAndTheStepCorrelationOfTheProcess()
    {
        const double theta = 0.15, dt = 0.01;
        var noise = new OrnsteinUhlenbeckNoise(1, 1, theta, dt);
        var rng = new Rng(11UL);
        // Burn in well past the correlation time 1/(θ·dt) ≈ 667 steps, then gather 400k draws.
        for (int i = 0; i < 5_000; i++) noise.Next(0, 0, rng);
        const int n = 400_000;
        double sum = 0, sumSq = 0, sumLag = 0, previous = noise.Next(0, 0, rng);
        for (int i = 0; i < n; i++)
        {
            double x = noise.Next(0, 0, rng);
            sum += x;
            sumSq += x * x;
            sumLag += x * previous;
            previous = x;
        }
        double variance = sumSq / n - Math.Pow(sum / n, 2);
        double expected = dt / (1 - Math.Pow(1 - theta * dt, 2)); // ≈ 1/(2θ) = 3.33
        // 400k draws hold ≈ 300 correlation times: the variance estimate is good to ≈ 10%.
        Assert.InRange(variance, 0.8 * expected, 1.2 * expected);
        Assert.InRange(sumLag / sumSq, 0.995, 0.9999); // 1 − θ·dt = 0.9985: a push held for hundreds of steps
    }

    [Fact]
    public void EndingAnEpisodeRestartsOnlyThatSlot()
    {
        var noise = new OrnsteinUhlenbeckNoise(2, 2);
        var rng = new Rng(3UL);
        for (int i = 0; i < 50; i++)
            for (int row = 0; row < 2; row++)
                for (int e = 0; e < 2; e++) noise.Next(row, e, rng);
        var before = noise.SaveState();
        noise.EndEpisode(1);
        var after = noise.SaveState();
        Assert.Equal(before[..2], after[..2]);
        Assert.Equal(new double[2], after[2..]);
        Assert.All(before, x => Assert.NotEqual(0.0, x));
    }

    [Fact]
    public void ARestoredStateContinuesTheSameDraws()
    {
        var noise = new OrnsteinUhlenbeckNoise(3, 1);
        var rng = new Rng(5UL);
        for (int i = 0; i < 30; i++) noise.Next(i % 3, 0, rng);
        var state = noise.SaveState();
        var rngState = rng.GetState();
        double[] Draws(OrnsteinUhlenbeckNoise process, Rng r) => Enumerable.Range(0, 30).Select(i => process.Next(i % 3, 0, r)).ToArray();
        var expected = Draws(noise, rng);
        var restored = new OrnsteinUhlenbeckNoise(3, 1);
        restored.LoadState(state);
        var rng2 = new Rng(0UL);
        rng2.SetState(rngState);
        Assert.Equal(expected, Draws(restored, rng2));
        var error = Assert.Throws<ArgumentException>(() => restored.LoadState(new double[4]));
        Assert.Contains("3 slots × 1 elements", error.Message);
    }

    [Fact]
    public void NoisyGreedyActionsFollowTheSlotsProcess()
    {
        // A Gaussian head over Box([-1], [1]) whose mode is 0: the chosen action is 0.5·(the slot's draw), clipped.
        var dist = new ActionDistribution(new BoxSpace(-1f, 1f, [1]).ActionLayout);
        var noise = new OrnsteinUhlenbeckNoise(2, 1);
        var mirror = new OrnsteinUhlenbeckNoise(2, 1);
        var selection = ActionSelection.NoisyGreedy(0.5, noise);
        var rng = new Rng(8UL);
        var mirrorRng = new Rng(8UL);
        var parameters = new float[dist.ParameterSize]; // mean 0, log σ 0
        var action = new float[1];
        var previous = new float[2];
        double largestStep = 0;
        for (int step = 0; step < 200; step++)
            for (int row = 0; row < 2; row++)
            {
                dist.Select(parameters, selection, rng, [], action, default, row);
                double expected = Math.Clamp(0.5 * mirror.Next(row, 0, mirrorRng), -1, 1);
                Assert.Equal((float)expected, action[0]);
                if (step > 0) largestStep = Math.Max(largestStep, Math.Abs(action[0] - previous[row]));
                previous[row] = action[0];
            }
        // Independent N(0, 0.5²) draws would jump by more than 0.3 many times in 400 steps; the process moves by ≈ 0.05 a step.
        Assert.True(largestStep < 0.3, $"largest step {largestStep}");
    }
}
