using System.Diagnostics;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;
using RLAgents.EpisodeLogs.Rendering;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary>
/// <c>rlagents play</c> driven through a pseudo-terminal, as a person at a keyboard drives it: the screen
/// shows the picture, the mission and the keys; the keys typed are the actions taken; the episodes land
/// in an episode log that <c>episodes to-sft</c> turns into demonstrations.
/// </summary>
public sealed class PlayVerbTests
{
    private const string Level = "BabyAI-GoToLocal-v0";

    /// <summary>The BabyAI bot's actions for episode <paramref name="episode"/> of a play session seeded <paramref name="seed"/>.</summary>
    private static int[] BotActions(long seed, int episode)
    {
        using var env = EnvRegistry.CreateDefault().Make(Level);
        var played = Experts.Play(env, Experts.For(env), HumanPlayer.EpisodeSeed(seed, episode));
        Assert.NotNull(played);
        return played.Actions;
    }

    [Fact]
    public void KeysTypedAtTheTerminalPlayEpisodesThatBecomeDemonstrations()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path, log = Path.Combine(dir, "human.arrows");
        const long seed = 4;
        var keys = HumanPlayer.KeysFor(["left", "right", "forward", "pickup", "drop", "toggle", "done"]);
        using var terminal = new PseudoTerminal("play", Level, "--episodes", "2", "--seed", seed.ToString(), "--out", log);
        var expected = new List<int[]>();
        int at = 0;
        for (int e = 0; e < 2; e++)
        {
            var actions = BotActions(seed, e);
            expected.Add(actions);
            for (int t = 0; t < actions.Length; t++)
            {
                at = terminal.WaitFor($"episode {e + 1}/2  step {t}  ", at);
                if (e == 0 && t == 0)
                {
                    // The first screen shows the picture, the mission and every key.
                    terminal.WaitFor("q quit]", at);
                    string screen = terminal.Screen[at..];
                    Assert.Contains("mission: go to ", screen);
                    Assert.Contains("←/l/1 left", screen);
                    Assert.Contains("WG", screen);
                    terminal.Type("x"); // not an action key: the screen says so and nothing happens
                    at = terminal.WaitFor("key 'x' takes no action", at);
                }
                // Arrows for the turns and forward on the first episode, letters on the second.
                var key = keys[actions[t]];
                terminal.Type(e == 0 && key.Key is { } arrow ? arrow switch { ConsoleKey.LeftArrow => "\u001b[D", ConsoleKey.RightArrow => "\u001b[C", _ => "\u001b[A" } : key.Char.ToString());
            }
            at = terminal.WaitFor($"episode {e + 1} ended after {actions.Length} steps: success", at);
            if (e == 0)
            {
                terminal.WaitFor("[any key: next episode  q: quit]", at);
                terminal.Type(" ");
            }
        }
        Assert.Equal(0, terminal.WaitForExit());
        Assert.Contains("recorded 2 episodes (2 successful", terminal.Screen);

        var recorded = EpisodeLogReader.ReadAll(log).ThrowIfDamaged();
        Assert.Equal(Level, recorded.Header.EnvId);
        Assert.Equal(2, recorded.Episodes.Count);
        for (int e = 0; e < 2; e++)
        {
            Assert.Equal(expected[e], recorded.Episodes[e].Actions);
            Assert.Equal("human", recorded.Episodes[e].Phase);
            Assert.True(recorded.Episodes[e].Success);
        }
        var replay = CliRunner.Run("replay", log, "--verify");
        Assert.True(replay.ExitCode == 0, replay.Out + replay.Error);
        var sft = CliRunner.Run("episodes", "to-sft", log, "--filter", "success", "--out", Path.Combine(dir, "demos.arrows"));
        Assert.True(sft.ExitCode == 0, sft.Error);
        Assert.Contains("wrote 2 demonstrations", sft.Out);
    }

    [Fact]
    public void AnEnvWithoutATextPictureIsDrawnInColouredBlocksAndQuittingKeepsOnlyFinishedEpisodes()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path, log = Path.Combine(dir, "cartpole.arrows");
        using var terminal = new PseudoTerminal("play", "CartPole-v1", "--view", "frame", "--episodes", "3", "--out", log);
        int at = terminal.WaitFor("q quit]");
        Assert.Contains("▀", terminal.Screen);
        Assert.Contains("\u001b[38;2;", terminal.Screen);
        Assert.Contains("←/p/1 push left", terminal.Screen);
        // Pushing left every step topples the pole within a few dozen steps.
        int steps = 0;
        while (!terminal.Screen[at..].Contains("episode 1 ended", StringComparison.Ordinal))
        {
            terminal.Type("\u001b[D");
            at = terminal.WaitFor($"step {++steps}  ", at);
            terminal.WaitFor("quit]", at); // the whole screen: the keys, or the episode's end
            Assert.True(steps < 200, "the pole never fell");
        }
        terminal.WaitFor("[any key: next episode  q: quit]", at);
        terminal.Type(" ");
        at = terminal.WaitFor("episode 2/3  step 0  ", at);
        terminal.Type("\u001b[D");
        terminal.WaitFor("episode 2/3  step 1  ", at);
        terminal.Type("q");
        Assert.Equal(0, terminal.WaitForExit());
        Assert.Contains("recorded 1 episodes", terminal.Screen);
        var recorded = EpisodeLogReader.ReadAll(log).ThrowIfDamaged();
        var episode = Assert.Single(recorded.Episodes);
        Assert.Equal(steps, episode.Length);
        Assert.All(episode.Actions, a => Assert.Equal(0, a));
    }

    [Fact]
    public void PlayingWithoutATerminalIsAOneLineError()
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var temp = new TempDirectory();
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "rlagents.dll"), "play", Level, "--out", temp.Combine("x.arrows") })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        string error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Equal(2, process.ExitCode);
        Assert.Equal("error: play needs an interactive terminal (its input is redirected); record scripted episodes with `rlagents record` instead.", error.Trim());
    }
}
