using System.Text.Json;
using RLAgents.Environments.GridWorld;

namespace RLAgents.Environments.Tests.GridWorld;

/// <summary>
/// Replays Minigrid 3.1's own episodes (shared fixtures: 40 single-action episodes of format 1 and
/// 105 episodes of format 2 over 20 further levels, with sequences, locked doors and a key in a box)
/// from their layouts and checks every step: view, reward, flags, pose, carried object and, for
/// sequences, the status of every before/after/and node.
/// </summary>
public sealed class FixtureReplayTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "GridWorld", "Fixtures");
    private static readonly string[] Files = ["minigrid-3.1-babyai.jsonl", "minigrid-3.1-babyai-levels.jsonl"];
    private static readonly Lazy<string[]> Lines = new(() => Files.SelectMany(f => File.ReadLines(Path.Combine(Dir, f)).Where(l => l.Length > 0)).ToArray());

    internal static int EpisodeCount => Lines.Value.Length;

    public static TheoryData<int> EpisodeIndices() => new(Enumerable.Range(0, EpisodeCount));

    internal static JsonElement Episode(int index) => JsonDocument.Parse(Lines.Value[index]).RootElement;

    internal static string Tag(JsonElement ep) =>
        $"{ep.GetProperty("level").GetString()} seed {ep.GetProperty("seed").GetInt32()} ({ep.GetProperty("policy").GetString()})";

    [Fact]
    public void FixturesHoldFortyPlusOneHundredAndFiveEpisodes()
    {
        Assert.Equal(145, Lines.Value.Length);
        Assert.Equal(105, Lines.Value.Count(l => l.Contains("\"format\": 2", StringComparison.Ordinal) || l.Contains("\"format\":2", StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(EpisodeIndices))]
    public void ReplayMatchesMinigridStepByStep(int index)
    {
        var ep = Episode(index);
        string tag = Tag(ep);
        var layout = GridWorldLayout.FromJson(ep);
        using var env = GridWorldEnv.FromLayout(layout, new GridWorldOptions { IncludeDescription = false });
        var reset = env.Reset(0);
        Assert.Equal(ep.GetProperty("mission").GetString(), env.Mission);
        Assert.Equal(env.Mission, env.Instruction.Surface());
        Assert.Equal(Bytes(ep.GetProperty("grid")), env.EncodeFullGrid());
        Assert.True(Bytes(ep.GetProperty("obs0")).AsSpan().SequenceEqual(reset.Observation.Bytes("image")), $"{tag}: obs0 differs");
        Assert.Equal(ep.GetProperty("agent_dir").GetInt32(), reset.Observation.GetInt("direction"));
        Assert.Equal(ep.GetProperty("max_steps").GetInt32(), env.MaxSteps);

        var sequences = env.Instruction.SequencesPreOrder().ToList();
        bool hasStatus = ep.TryGetProperty("seq_status", out var seqStatus) && seqStatus.ValueKind == JsonValueKind.Array;
        Assert.Equal(sequences.Count > 0, hasStatus);
        var actions = ep.GetProperty("actions");
        for (int t = 0; t < actions.GetArrayLength(); t++)
        {
            var r = env.Step(actions[t].GetInt32());
            string at = $"{tag} step {t}";
            Assert.True(Bytes(ep.GetProperty("obs")[t]).AsSpan().SequenceEqual(r.Observation.Bytes("image")), $"{at}: view differs");
            Assert.True(ep.GetProperty("rewards")[t].GetDouble() == r.Reward, $"{at}: reward {r.Reward}");
            Assert.True((ep.GetProperty("terminated")[t].GetInt32() == 1) == r.Terminated, $"{at}: terminated {r.Terminated}");
            Assert.True((ep.GetProperty("truncated")[t].GetInt32() == 1) == r.Truncated, $"{at}: truncated {r.Truncated}");
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
            if (hasStatus)
            {
                var expected = seqStatus[t];
                Assert.Equal(expected.GetArrayLength(), sequences.Count);
                for (int k = 0; k < sequences.Count; k++)
                    Assert.True(Status(expected[k][0]) == sequences[k].AStatus && Status(expected[k][1]) == sequences[k].BStatus,
                        $"{at}: node {k} is [{sequences[k].AStatus}, {sequences[k].BStatus}], Minigrid's [{expected[k][0]}, {expected[k][1]}]");
            }
        }
        Assert.Equal(Bytes(ep.GetProperty("final_grid")), env.EncodeFullGrid());
    }

    [Theory]
    [MemberData(nameof(EpisodeIndices))]
    public void MissionParsesBackToTheRecordedInstruction(int index)
    {
        var ep = Episode(index);
        var parsed = InstructionSpec.ParseMission(ep.GetProperty("mission").GetString()!);
        var recorded = InstructionSpec.FromJson(ep.GetProperty("instr"));
        Assert.True(parsed.SameShape(recorded), $"{Tag(ep)}: '{ep.GetProperty("mission").GetString()}' parsed as {parsed}");
        // Articles: "the" exactly when one object matched at reset.
        Assert.Equal(ep.GetProperty("mission").GetString(), recorded.Surface());
    }

    private static VerifyStatus? Status(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetString() switch
    {
        "continue" => VerifyStatus.Continue,
        "success" => VerifyStatus.Success,
        "failure" => VerifyStatus.Failure,
        var s => throw new FormatException($"Unknown status '{s}'."),
    };

    internal static byte[] Bytes(JsonElement array) => array.EnumerateArray().Select(e => (byte)e.GetInt32()).ToArray();
}
