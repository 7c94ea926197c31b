using System.Text.Json;
using RLAgents.Environments.GridWorld;

namespace RLAgents.Environments.Tests.GridWorld;

/// <summary>
/// Replays Minigrid 3.1's own BabyAI bot episodes (shared fixture, 40 episodes) from their
/// layouts and checks every step: view, reward, flags, pose and carried object.
/// </summary>
public sealed class FixtureReplayTests
{
    private static readonly string FixturePath = Path.Combine(AppContext.BaseDirectory, "GridWorld", "Fixtures", "minigrid-3.1-babyai.jsonl");

    public static TheoryData<int> EpisodeIndices()
    {
        var data = new TheoryData<int>();
        int n = File.ReadLines(FixturePath).Count(l => l.Length > 0);
        for (int i = 0; i < n; i++) data.Add(i);
        return data;
    }

    internal static JsonElement Episode(int index) =>
        JsonDocument.Parse(File.ReadLines(FixturePath).Where(l => l.Length > 0).ElementAt(index)).RootElement;

    [Fact]
    public void FixtureHoldsFortyEpisodes() => Assert.Equal(40, EpisodeIndices().Count);

    [Theory]
    [MemberData(nameof(EpisodeIndices))]
    public void ReplayMatchesMinigridStepByStep(int index)
    {
        var ep = Episode(index);
        string tag = $"{ep.GetProperty("level").GetString()} seed {ep.GetProperty("seed").GetInt32()}";
        var layout = GridWorldLayout.FromJson(ep);
        using var env = GridWorldEnv.FromLayout(layout);
        var reset = env.Reset(0);
        Assert.Equal(ep.GetProperty("mission").GetString(), env.Mission);
        Assert.Equal(Bytes(ep.GetProperty("grid")), env.EncodeFullGrid());
        Assert.True(Bytes(ep.GetProperty("obs0")).AsSpan().SequenceEqual(reset.Observation.Bytes("image")), $"{tag}: obs0 differs");
        Assert.Equal(ep.GetProperty("agent_dir").GetInt32(), reset.Observation.GetInt("direction"));

        var actions = ep.GetProperty("actions");
        for (int t = 0; t < actions.GetArrayLength(); t++)
        {
            var r = env.Step(actions[t].GetInt32());
            string at = $"{tag} step {t}";
            Assert.True(Bytes(ep.GetProperty("obs")[t]).AsSpan().SequenceEqual(r.Observation.Bytes("image")), $"{at}: view differs");
            Assert.Equal(ep.GetProperty("rewards")[t].GetDouble(), r.Reward);
            Assert.Equal(ep.GetProperty("terminated")[t].GetInt32() == 1, r.Terminated);
            Assert.Equal(ep.GetProperty("truncated")[t].GetInt32() == 1, r.Truncated);
            Assert.Equal(ep.GetProperty("dirs")[t].GetInt32(), env.AgentDir);
            var pos = ep.GetProperty("pos")[t];
            Assert.Equal((pos[0].GetInt32(), pos[1].GetInt32()), (env.AgentX, env.AgentY));
            var carrying = ep.GetProperty("carrying")[t];
            if (carrying.ValueKind == JsonValueKind.Null) Assert.Null(env.Carrying);
            else
            {
                Assert.NotNull(env.Carrying);
                Assert.Equal(((byte)carrying[0].GetInt32(), (byte)carrying[1].GetInt32(), (byte)carrying[2].GetInt32()), env.Carrying!.Encode());
            }
        }
        Assert.Equal(Bytes(ep.GetProperty("final_grid")), env.EncodeFullGrid());
    }

    internal static byte[] Bytes(JsonElement array) => array.EnumerateArray().Select(e => (byte)e.GetInt32()).ToArray();
}
