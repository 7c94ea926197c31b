using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using RLAgents.Agents.Tests.Training;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using Xunit.Abstractions;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary>
/// <c>rlagents run</c> as a child process, recording on, killed with SIGKILL (kill -9) at random moments and resumed
/// after each kill: every resume succeeds, every checkpoint a kill leaves behind loads, and the finished run equals the
/// uninterrupted one byte for byte (metrics rows, checkpoints, episode log), with no leftover files.
/// </summary>
public partial class CrashResumeTests(ITestOutputHelper log)
{
    private static readonly string Rlagents = Path.Combine(AppContext.BaseDirectory, "rlagents.dll");

    private static string Shipped(string config) => Path.Combine(CliRunner.RepoRoot, "experiments", "configs", config);

    private static readonly string[] Ppo =
    [
        "--set", "env.numEnvs=4", "--set", "env.vectorization=sync", "--set", "algorithm.ppo.rolloutSteps=32", "--set", "algorithm.ppo.epochs=2",
        "--set", "algorithm.ppo.minibatches=2", "--set", "training.totalSteps=3072", "--set", "training.logInterval=256",
        "--set", "training.evalInterval=1024", "--set", "training.evalEpisodes=2", "--set", "training.checkpointInterval=256", "--set", "recording={}",
    ];

    private static readonly string[] Dqn =
    [
        // One env, a 256-256 network (the shipped config's before issue 16) and 4,096 steps keep the run long enough for the kills to land.
        "--set", "env.vectorization=sync", "--set", "env.numEnvs=1", "--set", "policy.hiddenSizes=[256,256]", "--set", "algorithm.dqn.learningStarts=128", "--set", "algorithm.dqn.trainFrequency=16",
        "--set", "algorithm.dqn.gradientSteps=2", "--set", "algorithm.dqn.bufferSize=2000", "--set", "algorithm.dqn.nStep=3",
        "--set", "training.totalSteps=4096", "--set", "training.logInterval=256", "--set", "training.evalInterval=1024",
        "--set", "training.evalEpisodes=2", "--set", "training.checkpointInterval=128", "--set", "recording={}",
    ];

    // Behaviour cloning of the BabyAI bot, then PPO anchored to it: a schedule, recorded (hashes) with its evaluations.
    private const string Phased = """
        { "name": "phased", "seed": 5,
          "env": { "id": "BabyAI-GoToRedBallGrey-v0", "numEnvs": 4, "options": { "includeDescription": false } },
          "policy": { "architecture": "mlp", "hiddenSizes": [32], "shareStateEstimator": true },
          "phases": [ { "kind": "sft", "sft": { "expertEpisodes": 4, "updates": 4, "batchSize": 32 } },
                      { "kind": "ppo", "steps": 2048, "klAnchor": 0.05, "ppo": { "rolloutSteps": 16, "minibatches": 2, "epochs": 1 } } ],
          "training": { "logInterval": 64, "evalInterval": 768, "checkpointInterval": 128, "evalEpisodes": 2, "greedyEvaluation": false },
          "recording": { "observationHashes": true } }
        """;

    // A plain progress line: "phase 2/2 ppo training [###.....]  35% 720/2048 steps ...".
    [GeneratedRegex(@"^phase (\d+)/(\d+) .*\]\s+(\d+)% ")]
    private static partial Regex ProgressPattern();

    [Theory]
    [InlineData("ppo", 4)]
    [InlineData("dqn", 3)]
    [InlineData("phased", 3)]
    public void RunsKilledAtRandomMomentsResumeToExactlyTheUninterruptedRun(string kind, int kills)
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        try
        {
            KillAndResume(dir, kind, kills);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private void KillAndResume(string dir, string kind, int kills)
    {
        if (kind == "phased") File.WriteAllText(Path.Combine(dir, "phased.json"), Phased);
        string[] start = kind switch
        {
            "ppo" => ["run", Shipped("cartpole-ppo.json"), .. Ppo],
            "dqn" => ["run", Shipped("cartpole-dqn.json"), .. Dqn],
            _ => ["run", Path.Combine(dir, "phased.json")],
        };

        var reference = CliRunner.Run([.. start, "--output", Path.Combine(dir, "reference")]);
        Assert.True(reference.ExitCode == 0, reference.Error);
        string expected = Directory.GetDirectories(Path.Combine(dir, "reference")).Single();

        string output = Path.Combine(dir, "killed");
        var rng = new Rng(Rng.DeriveSeed(0x5EEDUL, kind, kills));
        string? runDir = null;
        var moments = new List<string>();
        for (int kill = 0; kill < kills; kill++)
        {
            string[] args = runDir is null ? [.. start, "--output", output] : ["run", "--resume", runDir];
            // The first kill lands right after the first progress line (before the first checkpoint: the resume starts
            // over); kill k of K after the first line past a random point in the k-th K-th of the run's first 60%, so the
            // kills spread over phases, evaluations, checkpoints and episode writes, and each lands before the run ends.
            double target = kill == 0 ? 0 : 0.6 * (kill + rng.NextDouble()) / kills;
            var delay = TimeSpan.FromMilliseconds(kill == 0 ? rng.NextInt(150) : rng.NextInt(250));
            var child = RunAndKill(args, target, delay);
            string what = $"kill {kill} ({string.Join(' ', args.Take(2))}, at {target:P0} + {delay.TotalMilliseconds} ms)";
            Assert.True(child.Killed, $"{what} did not land: the child exited with {child.ExitCode}.\n{child.Error}\n{child.Out}");
            runDir ??= child.RunDirectory;
            if (runDir is not null && !File.Exists(Path.Combine(runDir, TrainingRunner.ConfigFile)))
            {
                // Killed between creating the folder and writing config.json (microseconds): nothing was written, so start again.
                Assert.Empty(Directory.EnumerateFileSystemEntries(runDir));
                Directory.Delete(runDir);
                runDir = null;
            }
            moments.Add($"{what} at {child.LastLine}");
            if (runDir is not null) AssertCheckpointsLoad(runDir, what);
        }

        foreach (var moment in moments) log.WriteLine(moment);
        Assert.NotNull(runDir);
        var last = CliRunner.Run("run", "--resume", runDir!);
        Assert.True(last.ExitCode == 0, $"the final resume failed: {last.Error}\nkills: {string.Join("; ", moments)}");
        Assert.DoesNotContain("differs", last.Error, StringComparison.Ordinal);
        RunComparison.AssertSameRun(expected, runDir!);
        // Nothing more either: no checkpoint of an abandoned timeline, no temporary file of a write cut short.
        Assert.Equal(Files(expected), Files(runDir!));
    }

    // The TensorBoard event file is named by the wall-clock second its run began, which two runs never share.
    private static string[] Files(string run) =>
        Directory.EnumerateFiles(run, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(run, f))
            .Select(f => f.StartsWith("events.out.tfevents.", StringComparison.Ordinal) ? "events.out.tfevents.*" : f).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The checkpoint latest.json names loads, and so does every complete checkpoint (weights and state) before it.</summary>
    private static void AssertCheckpointsLoad(string runDir, string what)
    {
        string folder = Path.Combine(runDir, Checkpoint.Folder);
        if (!Checkpoint.Exists(runDir)) return;
        var latest = Checkpoint.Load(runDir);
        string latestId = latest.Id;
        latest.DisposeTensors();
        foreach (var weights in Directory.GetFiles(folder, "*.safetensors"))
        {
            string id = Path.GetFileNameWithoutExtension(weights);
            if (!File.Exists(Path.ChangeExtension(weights, ".json")))
            {
                // Only a write cut short leaves weights without their state, and only after the latest checkpoint.
                Assert.True(string.CompareOrdinal(id, latestId) > 0, $"after {what}: checkpoint {id} lost its state, yet latest.json names {latestId}");
                continue;
            }
            try
            {
                Checkpoint.Load(weights).DisposeTensors();
            }
            catch (Exception e)
            {
                Assert.Fail($"after {what}: checkpoint {id} does not load: {e.Message}");
            }
        }
    }

    private sealed record Child(bool Killed, int ExitCode, string? RunDirectory, string LastLine, string Out, string Error);

    /// <summary>
    /// Runs <c>rlagents</c> as a child process and kills it with SIGKILL <paramref name="delay"/> after its first
    /// progress line at or past <paramref name="target"/> (a fraction of the whole schedule), or at once on its first
    /// progress line in the last 30% of the run, unless it exits first.
    /// </summary>
    private static Child RunAndKill(string[] args, double target, TimeSpan delay)
    {
        Assert.True(File.Exists(Rlagents), $"{Rlagents} is missing");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "exec", Rlagents }.Concat(args)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEndAsync();
        var output = new StringBuilder();
        string? runDir = null;
        string lastLine = "";
        using var fire = new ManualResetEventSlim();
        using var late = new ManualResetEventSlim();
        var reader = Task.Run(() =>
        {
            while (p.StandardOutput.ReadLine() is { } line)
            {
                lock (output) { output.AppendLine(line); lastLine = line; }
                int arrow = line.IndexOf(" → ", StringComparison.Ordinal);
                if (runDir is null && arrow > 0) runDir = line[(arrow + 3)..].Trim();
                var m = ProgressPattern().Match(line);
                if (!m.Success) continue;
                int phase = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), phases = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                int percent = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
                if (phase == phases && percent >= 70)
                {
                    // Into the last 30%: a resume that started this late, or a delay that outran a fast run (CartPole PPO
                    // does ~5k steps/s, so 250 ms is a quarter of the run), is killed at once so it cannot finish first.
                    fire.Set();
                    late.Set();
                    continue;
                }
                if ((phase - 1 + percent / 100.0) / phases >= target) fire.Set();
            }
        });
        // Bounded: a child that neither reaches its kill point nor exits within a minute is killed and reported.
        var deadline = Stopwatch.StartNew();
        while (!fire.IsSet && !p.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(1)) fire.Wait(TimeSpan.FromMilliseconds(20));
        bool killed = false;
        if (fire.IsSet)
        {
            // The random delay past the kill point, cut short by a progress line in the last 30% or by the child's exit.
            var waited = Stopwatch.StartNew();
            while (!p.HasExited && waited.Elapsed < delay && !late.Wait(TimeSpan.FromMilliseconds(5))) { }
        }
        if (!p.HasExited)
        {
            p.Kill(); // SIGKILL: no managed code, finaliser or flush runs afterwards
            killed = fire.IsSet;
        }
        p.WaitForExit();
        reader.Wait();
        lock (output) return new Child(killed && p.ExitCode == 137, p.ExitCode, runDir, lastLine, output.ToString(), error.Result);
    }
}
