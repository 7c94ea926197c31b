using System.Text.Json;

namespace RLAgents.Environments.Tests.ClassicControl;

/// <summary>One Gymnasium 1.4 CartPole-v1 episode from Fixtures/gymnasium-1.4-cartpole-v1.jsonl.</summary>
public sealed record GymEpisode(long Seed, string Policy, double[] ResetState, float[] ResetObs, GymStep[] Steps, bool FinalTerminated, bool FinalTruncated)
{
    /// <summary>All episodes of the fixture, in file order.</summary>
    public static IReadOnlyList<GymEpisode> Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "gymnasium-1.4-cartpole-v1.jsonl");
        var episodes = new List<GymEpisode>();
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            var steps = e.GetProperty("steps").EnumerateArray().Select(s => new GymStep(
                s.GetProperty("action").GetInt32(),
                Floats(s.GetProperty("obs")),
                s.GetProperty("reward").GetDouble(),
                s.GetProperty("terminated").GetBoolean(),
                s.GetProperty("truncated").GetBoolean(),
                Doubles(s.GetProperty("state")))).ToArray();
            episodes.Add(new GymEpisode(e.GetProperty("seed").GetInt64(), e.GetProperty("policy").GetString()!,
                Doubles(e.GetProperty("reset_state")), Floats(e.GetProperty("reset_obs")), steps,
                e.GetProperty("final_terminated").GetBoolean(), e.GetProperty("final_truncated").GetBoolean()));
        }
        return episodes;
    }

    // The fixture writes float32 values as the doubles they widen to, so narrowing is exact.
    private static float[] Floats(JsonElement a) => a.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    private static double[] Doubles(JsonElement a) => a.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    /// <inheritdoc />
    public override string ToString() => $"seed {Seed} {Policy}";
}

/// <summary>One recorded transition.</summary>
public sealed record GymStep(int Action, float[] Obs, double Reward, bool Terminated, bool Truncated, double[] State);
