using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Wrappers;

public sealed class ParaphrasedVectorEnvTests
{
    private static readonly ParaphraseTable Table = new([
        KeyValuePair.Create("go to", new[] { "zoom at", "vroom by", "whizz past" }),
        KeyValuePair.Create("see", new[] { "spy" }),
    ]);

    private static IVectorEnv GoToLocal(int n, bool description = true) =>
        new SyncVectorEnv(_ => BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = description }), n, AutoresetMode.SameStep);

    [Fact]
    public void EpisodesAreTheSameAndOnlyTheirWordsDiffer()
    {
        using var plain = GoToLocal(4);
        using var reworded = new ParaphrasedVectorEnv(GoToLocal(4), Table);
        plain.Reset(11);
        reworded.Reset(11);
        int mission = plain.SingleObservationSpace.IndexOf("mission"), description = plain.SingleObservationSpace.IndexOf("description");
        var rng = new Rng(2);
        var actions = new int[4];
        int ended = 0;
        for (int t = 0; t < 300; t++)
        {
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(plain.Observations.Bytes(0).AsSpan(i * 147, 147).ToArray(), reworded.Observations.Bytes(0).AsSpan(i * 147, 147).ToArray());
                Assert.Equal(plain.Observations.Ints(1)[i], reworded.Observations.Ints(1)[i]);
                string original = plain.Observations.Texts(mission)[i], seen = reworded.Observations.Texts(mission)[i];
                Assert.StartsWith("go to ", original);
                Assert.Contains(seen, new[] { "zoom at", "vroom by", "whizz past" }.Select(verb => verb + original[5..]));
                Assert.Equal(plain.Observations.Texts(description)[i].Replace(" see ", " spy ", StringComparison.Ordinal), reworded.Observations.Texts(description)[i]);
            }
            for (int i = 0; i < 4; i++) actions[i] = rng.NextInt(7);
            plain.Step(actions);
            reworded.Step(actions);
            Assert.Equal(plain.Rewards.ToArray(), reworded.Rewards.ToArray());
            Assert.Equal(plain.Terminated.ToArray(), reworded.Terminated.ToArray());
            Assert.Equal(plain.Truncated.ToArray(), reworded.Truncated.ToArray());
            for (int i = 0; i < 4; i++)
                if (plain.Terminated[i] || plain.Truncated[i])
                {
                    ended++;
                    Assert.EndsWith(plain.FinalObservations.Texts(mission)[i][5..], reworded.FinalObservations.Texts(mission)[i]);
                }
        }
        Assert.True(ended > 4);
        Assert.Equal(reworded.EpisodesStarted, reworded.EpisodesRewritten);
    }

    [Fact]
    public void AnEpisodeKeepsItsWordingAndTheEvaluationSeedChoosesIt()
    {
        static List<string> Missions(long seed)
        {
            using var env = new ParaphrasedVectorEnv(GoToLocal(2, description: false), Table);
            env.Reset(seed);
            var seen = new List<string>();
            for (int t = 0; t < 5; t++)
            {
                seen.AddRange(env.Observations.Texts(2));
                if (t > 0) Assert.Equal(seen[^4..^2], seen[^2..]);
                env.Step([0, 0]);  // turning left on the spot: the episode and its wording go on
            }
            return seen;
        }
        Assert.Equal(Missions(4), Missions(4));
        // Over a few seeds the three alternatives of "go to" all appear (chosen by the seed, not fixed).
        var verbs = Enumerable.Range(0, 12).SelectMany(s => Missions(s)).Select(m => string.Join(' ', m.Split(' ').Take(2))).ToHashSet();
        Assert.Equal(["vroom by", "whizz past", "zoom at"], verbs.Order());
    }
}
