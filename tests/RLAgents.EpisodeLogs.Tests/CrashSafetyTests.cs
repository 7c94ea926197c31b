using System.Diagnostics;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;

namespace RLAgents.EpisodeLogs.Tests;

/// <summary>A real recorder process killed with SIGKILL (kill -9) must leave every finished episode readable.</summary>
public sealed class CrashSafetyTests
{
    private static readonly string Helper = Path.Combine(AppContext.BaseDirectory, "RLAgents.EpisodeLogs.RecorderProcess.dll");

    private static Process Start(string log, int pauseEpisode, int pauseStep)
    {
        Assert.True(File.Exists(Helper), $"{Helper} is missing: build tests/RLAgents.EpisodeLogs.RecorderProcess.");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "exec", Helper, log, pauseEpisode.ToString(System.Globalization.CultureInfo.InvariantCulture), pauseStep.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static List<string> ReadUntil(Process p, string last)
    {
        var lines = new List<string>();
        while (p.StandardOutput.ReadLine() is { } line)
        {
            lines.Add(line);
            if (line == last) return lines;
        }
        Assert.Fail($"The recorder process ended before printing '{last}': {p.StandardError.ReadToEnd()}");
        return lines;
    }

    private static void Kill9(Process p)
    {
        p.Kill(); // SIGKILL on Linux: no managed code, finalizer or flush runs afterwards
        p.WaitForExit();
        Assert.Equal(137, p.ExitCode); // 128 + SIGKILL
    }

    [Fact]
    public void KilledMidEpisodeLosesOnlyTheOpenEpisode()
    {
        string path = TempDirectory.ForProcess.NewFile("killed.arrows");
        using var p = Start(path, pauseEpisode: 4, pauseStep: 7);
        var lines = ReadUntil(p, "open 4 7");
        Assert.Equal(["written 0", "written 1", "written 2", "written 3", "open 4 7"], lines);
        Kill9(p);

        var log = EpisodeLogReader.ReadAll(path);
        Assert.Null(log.Damage);
        Assert.Equal([0L, 1, 2, 3], log.Episodes.Select(e => e.Index));
        Assert.All(log.Episodes, e => Assert.True(e.EndedTerminated || e.EndedTruncated));
        Assert.Equal(log.Episodes[0].Length, log.Episodes[0].Values.Count(v => v.HasValue));
        var report = new Replayer().Verify(path);
        Assert.True(report.Success, report.Summary());
    }

    [Fact]
    public void KilledAtAnArbitraryMomentLeavesEveryCompleteEpisodeReadable()
    {
        for (int trial = 0; trial < 2; trial++)
        {
            string path = TempDirectory.ForProcess.NewFile("killed-anywhere.arrows");
            using var p = Start(path, pauseEpisode: -1, pauseStep: 0);
            ReadUntil(p, $"written {20 + 37 * trial}");
            Kill9(p);

            using var reader = EpisodeLogReader.Open(path);
            var episodes = reader.ReadEpisodes().ToList();
            Assert.False(reader.SawEndOfStream);
            Assert.True(episodes.Count >= 21 + 37 * trial);
            Assert.Equal(Enumerable.Range(0, episodes.Count).Select(i => (long)i), episodes.Select(e => e.Index));
            // Damage, if the kill tore a write, can only be the tail after the last complete episode.
            if (reader.Damage is { } d) Assert.Equal(reader.EndOfLastCompleteMessage, d.Offset);
            else Assert.Equal(new FileInfo(path).Length, reader.EndOfLastCompleteMessage);
            var report = new Replayer().Verify(path);
            Assert.Equal(episodes.Count, report.Matched);
        }
    }
}
