using RLAgents.Environments;
using RLAgents.EpisodeLogs.Rendering;

namespace RLAgents.EpisodeLogs.Tests.Rendering;

/// <summary>The terminal player with scripted key presses (the pseudo-terminal tests of <c>rlagents play</c> drive it for real).</summary>
public sealed class HumanPlayerTests
{
    private static ConsoleKeyInfo Char(char c) => new(c, ConsoleKey.NoName, false, false, false);

    private static ConsoleKeyInfo Arrow(ConsoleKey key) => new('\0', key, false, false, false);

    [Fact]
    public void EveryActionGetsItsDigitAFreeLetterAndAnArrowWhereItsNameSaysSo()
    {
        var keys = HumanPlayer.KeysFor(["left", "right", "forward", "pickup", "drop", "toggle", "done"]);
        Assert.Equal(["←/l/1", "→/r/2", "↑/f/3", "p/4", "d/5", "t/6", "o/7"], keys.Select(k => k.Label));
        var cartPole = HumanPlayer.KeysFor(["push left", "push right"]);
        Assert.Equal(["←/p/1", "→/u/2"], cartPole.Select(k => k.Label));
        // q always quits, so no action takes it.
        Assert.DoesNotContain(HumanPlayer.KeysFor(["quit", "queue"]), k => k.Char == 'q');
    }

    [Fact]
    public void KeyPressesTakeTheirActionsAndOnlyFinishedEpisodesAreRecorded()
    {
        string log = TempDirectory.ForProcess.NewFile("human.arrows");
        var env = EnvRegistry.CreateDefault().Make("CartPole-v1");
        var recorder = EpisodeRecorder.Create(env, log, out var writer);
        var output = new StringWriter();
        PlaySession session;
        using (writer)
        using (recorder)
        {
            recorder.Phase = "human";
            var player = new HumanPlayer(recorder, PlayView.Frame);
            Assert.Equal(1, player.ActionOf(Arrow(ConsoleKey.RightArrow)));
            Assert.Equal(0, player.ActionOf(Char('1')));
            Assert.Null(player.ActionOf(Char('z')));
            // Episode 1: push left until the pole falls; a key to go on; episode 2: two pushes, then q.
            int episode = 0, pushes = 0;
            session = player.Play(3, seed: 9, () =>
            {
                if (episode == 0 && output.ToString().Contains("episode 1 ended", StringComparison.Ordinal)) { episode = 1; return Char(' '); }
                if (episode == 1 && pushes++ == 2) return Char('q');
                return Arrow(ConsoleKey.LeftArrow);
            }, output);
        }
        Assert.True(session.Quit);
        Assert.Equal(1, session.Episodes);
        Assert.Contains("▀", output.ToString());
        var recorded = EpisodeLogReader.ReadAll(log).ThrowIfDamaged();
        var only = Assert.Single(recorded.Episodes);
        Assert.Equal(session.Steps, only.Length);
        Assert.Equal(HumanPlayer.EpisodeSeed(9, 0), only.Seed);
        Assert.All(only.Actions, a => Assert.Equal(0, a));
        Assert.Equal("human", only.Phase);
    }

    [Fact]
    public void AFrameBecomesHalfBlocksThatFitTheWidth()
    {
        var pixels = new byte[40 * 30 * 3];
        for (int i = 0; i < pixels.Length; i += 3) pixels[i] = 200; // red
        string text = AnsiFrame.Render(new RgbFrame(40, 30, pixels), maxColumns: 20);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(8, lines.Length); // 40x30 averaged by 2 is 20x15: 8 rows of two pixel rows (the last one single)
        Assert.All(lines, l => Assert.Equal(20, l.Count(c => c == '▀')));
        Assert.Contains("\u001b[38;2;200;0;0m", lines[0]);
    }
}
