using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Bot;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Environments.Tests.GridWorld;

/// <summary>
/// Start states: an episode captured right after a reset and restored into another instance of the level plays
/// exactly as the original did, so episode logs can describe unseeded resets without reseeding the level.
/// </summary>
public sealed class StartStateTests
{
    private static readonly GridWorldOptions Options = new() { IncludeDescription = true };

    public static TheoryData<string> CapturableLevels() =>
        new(BabyAILevels.All.Values.Where(l => !l.StartsCarrying).Select(l => l.Id).Order(StringComparer.Ordinal));

    /// <summary>Image, direction, mission and description of <paramref name="o"/>, as one comparable string.</summary>
    private static string Show(Observation o) =>
        Convert.ToHexString(o.Bytes("image")) + "|" + o.GetInt("direction") + "|" + o.GetText("mission") + "|" + o.GetText("description");

    [Theory]
    [MemberData(nameof(CapturableLevels))]
    public void ARestoredStartPlaysStepForStepAsTheOriginalEpisode(string id)
    {
        using var original = BabyAILevels.Make(id, Options);
        using var restored = BabyAILevels.Make(id, Options);
        Assert.True(original.CanCaptureStartState);
        var actions = new Rng(7);
        for (int seed = 0; seed < 3; seed++)
        {
            // The original starts from an unseeded reset deep in its stream; the copy is reset elsewhere first.
            original.Reset(100 + seed);
            original.Step(0);
            original.Reset();
            string state = original.CaptureStartState();
            restored.Reset(9_999 + seed);
            Assert.Equal(Show(original.CurrentObservation), Show(restored.RestoreStartState(state)));
            Assert.Equal(original.Mission, restored.Mission);
            Assert.Equal(original.MaxSteps, restored.MaxSteps);
            Assert.Equal(0, restored.StepCount);
            // A few random actions (pick-ups, drops, toggles the bot would not make), then the bot to the end.
            BabyAIBot? bot = null;
            for (int t = 0; t < 400; t++)
            {
                int action = t < 12 ? actions.NextInt(6) : bot!.Act();
                var a = original.Step(action);
                var b = restored.Step(action);
                Assert.Equal((a.Reward, a.Terminated, a.Truncated), (b.Reward, b.Terminated, b.Truncated));
                Assert.Equal(Show(a.Observation), Show(b.Observation));
                if (a.Done) break;
                if (t == 11) bot = new BabyAIBot(original); // the bot plans from the state the random actions left
            }
        }
    }

    [Fact]
    public void LevelsThatStartCarryingDoNotOfferStartStates()
    {
        foreach (var level in BabyAILevels.All.Values.Where(l => l.StartsCarrying))
        {
            using var env = BabyAILevels.Make(level.Id, Options);
            Assert.False(env.CanCaptureStartState, level.Id);
        }
        Assert.Equal(3, BabyAILevels.All.Values.Count(l => l.StartsCarrying));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"format": 2, "width": 3}""")]
    public void ABadStartStateIsOneLineNamingTheEnvironment(string state)
    {
        using var env = BabyAILevels.Make("BabyAI-GoToLocal-v0", Options);
        env.Reset(1);
        var e = Assert.Throws<FormatException>(() => env.RestoreStartState(state));
        Assert.StartsWith("BabyAI-GoToLocal-v0: the start state is not a grid-world layout", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
