using System.Text.Json;

namespace RLAgents.Environments.Tests.ClassicControl;

/// <summary>
/// One Gymnasium 1.4 classic-control episode from ClassicControl/Fixtures/*_fixture.jsonl
/// (Pendulum-v1, MountainCarContinuous-v0, MountainCar-v0, Acrobot-v1; seeds 0–2 of every policy).
/// </summary>
public sealed record ControlEpisode(string EnvId, string Policy, long Seed, float[] ResetObs, double[] ResetState,
    ControlStep[] Steps, bool FinalTerminated, bool FinalTruncated)
{
    /// <summary>All episodes of <paramref name="file"/>, in file order.</summary>
    public static IReadOnlyList<ControlEpisode> Load(string file)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "ClassicControl", "Fixtures", file);
        var episodes = new List<ControlEpisode>();
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            var steps = e.GetProperty("steps").EnumerateArray().Select(s =>
            {
                var action = s.GetProperty("action");
                return new ControlStep(
                    action.ValueKind == JsonValueKind.Number ? action.GetInt32() : -1,
                    action.ValueKind == JsonValueKind.Array ? Floats(action) : [],
                    Floats(s.GetProperty("obs")),
                    s.GetProperty("reward").GetDouble(),
                    s.GetProperty("terminated").GetBoolean(),
                    s.GetProperty("truncated").GetBoolean(),
                    s.TryGetProperty("state", out var st) ? Doubles(st) : null,
                    s.TryGetProperty("u", out var u) ? u.GetDouble() : null,
                    s.TryGetProperty("rk4_raw", out var raw) ? Doubles(raw) : null);
            }).ToArray();
            episodes.Add(new ControlEpisode(e.GetProperty("env_id").GetString()!, e.GetProperty("policy").GetString()!,
                e.GetProperty("seed").GetInt64(), Floats(e.GetProperty("reset_obs")), Doubles(e.GetProperty("reset_state")), steps,
                e.GetProperty("final_terminated").GetBoolean(), e.GetProperty("final_truncated").GetBoolean()));
        }
        return episodes;
    }

    /// <summary>Indices 0..count-1 as theory data.</summary>
    public static TheoryData<int> Indices(int count)
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < count; i++) data.Add(i);
        return data;
    }

    // The fixture writes float32 values as the doubles they widen to, so narrowing is exact.
    private static float[] Floats(JsonElement a) => a.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    private static double[] Doubles(JsonElement a) => a.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    /// <inheritdoc />
    public override string ToString() => $"{EnvId} seed {Seed} {Policy}";
}

/// <summary>
/// One recorded transition: <paramref name="Discrete"/> is the action of a discrete env (−1 otherwise),
/// <paramref name="Continuous"/> the float32 action of a Box env (empty otherwise); <paramref name="State"/>
/// is the internal state after the step (null for MountainCarContinuous, whose state is the observation);
/// <paramref name="Torque"/> is Pendulum's clipped torque; <paramref name="Rk4Raw"/> Acrobot's RK4 result
/// where wrapping changed it.
/// </summary>
public sealed record ControlStep(int Discrete, float[] Continuous, float[] Obs, double Reward, bool Terminated, bool Truncated,
    double[]? State, double? Torque, double[]? Rk4Raw);

/// <summary>Bit-level float32 comparison with a message naming the episode, step and element.</summary>
internal static class ExactAssert
{
    public static void Floats(float[] expected, ReadOnlySpan<float> actual, string where)
    {
        Assert.True(expected.Length == actual.Length, $"{where}: {actual.Length} elements, expected {expected.Length}");
        for (int k = 0; k < expected.Length; k++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[k]) == BitConverter.SingleToInt32Bits(actual[k]),
                $"{where} obs[{k}]: expected {expected[k]:R}, got {actual[k]:R}");
    }

    public static void Doubles(double[] expected, double[] actual, string where)
    {
        Assert.True(expected.Length == actual.Length, $"{where}: {actual.Length} elements, expected {expected.Length}");
        for (int k = 0; k < expected.Length; k++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected[k]) == BitConverter.DoubleToInt64Bits(actual[k]),
                $"{where} state[{k}]: expected {expected[k]:R}, got {actual[k]:R}");
    }
}
