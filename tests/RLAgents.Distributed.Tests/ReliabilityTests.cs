using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;
using RLAgents.Experiments.Cli;

namespace RLAgents.Distributed.Tests;

/// <summary>
/// Failures with real processes on loopback: <c>rlagents worker</c> and <c>rlagents run</c> child processes killed
/// with SIGKILL, a late worker, a resumed learner, a refused worker. Worker timeouts are lowered to seconds.
/// </summary>
public class ReliabilityTests
{
    private static readonly WorkerCommand Rlagents = new(Path.Combine(AppContext.BaseDirectory, "rlagents"), []);

    // A killed learner is noticed after 4 s instead of 15.
    private static readonly string[] FastTimeout = ["--response-timeout", "4"];

    private static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) return false;
            Thread.Sleep(100);
        }
        return true;
    }

    private static string Log(string runDir, int worker)
    {
        string path = Path.Combine(runDir, "workers", $"worker-{worker}.log");
        if (!File.Exists(path)) return "";
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    [Fact]
    public void AKilledWorkerLeavesTrainingToTheOthersAndALateWorkerJoinsWithCurrentWeights()
    {
        Assert.True(File.Exists(Rlagents.FileName), $"{Rlagents.FileName} is missing: the test project references experiments/.");
        using var temp = new TempDirectory();
        string dir = temp.Combine("run");
        const int round = 64;
        var options = DistributedTrainingTests.CartPole(AlgorithmKind.Ppo, 21600, steps: 40 * round);
        options.Algorithm!.Ppo = new PpoOptions { RolloutSteps = 16, Epochs = 1, Minibatches = 1 };
        options.Training.CheckpointInterval = 0;
        var d = options.Distributed!;
        // Long enough that a live worker slowed by a loaded machine (its first, JIT-compiled collection) is not taken for dead.
        d.WorkerTimeoutSeconds = 6;
        Process? killed = null, late = null, survivor = null;
        Learner? learner = null;
        long killedAt = -1, lateAt = -1;
        int consumedBeforeKill = 0;
        try
        {
            bool warm = false;
            var result = DistributedTraining.Run(options, dir, false, progress: p =>
            {
                if (!warm)
                {
                    // Both workers up (process start-up is slow on a loaded machine) before anything is killed.
                    warm = WaitFor(() => Log(dir, 0).Contains("acting with weights") && Log(dir, 1).Contains("acting with weights"), TimeSpan.FromSeconds(60));
                    Assert.True(warm, "workers did not start: " + Log(dir, 0) + Log(dir, 1));
                }
                else if (killedAt < 0 && learner!.Counters.Consumed.Count(b => b.Worker == 1) >= 2)
                {
                    killed!.Kill();
                    killed.WaitForExit();
                    killedAt = p.EnvSteps;
                    consumedBeforeKill = learner.Counters.Consumed.Count(b => b.Worker == 1);
                }
                else if (killedAt >= 0 && lateAt < 0 && p.EnvSteps >= killedAt + 3 * round)
                {
                    // Three rounds went by with the survivor alone; now a late worker joins.
                    lateAt = p.EnvSteps;
                    late = DistributedTraining.StartWorker(Rlagents, d, 7, dir, FastTimeout);
                    // It joins with the current weights (loaded before the next update, while the runner waits here).
                    Assert.True(WaitFor(() => Log(dir, 7).Contains("acting with weights"), TimeSpan.FromSeconds(60)), "the late worker did not join: " + Log(dir, 7));
                }
            }, CancellationToken.None, workers: null, started: l =>
            {
                learner = l;
                survivor = DistributedTraining.StartWorker(Rlagents, d, 0, dir, FastTimeout);
                killed = DistributedTraining.StartWorker(Rlagents, d, 1, dir, FastTimeout);
            });
            var c = learner!.Counters;
            Assert.True(killedAt > 0 && lateAt > killedAt, $"killed at {killedAt}, late worker at {lateAt}");
            Assert.Equal(40 * round, result.EnvSteps);
            Assert.Equal(result.EnvSteps, c.ConsumedSteps);
            Assert.Equal(c.Consumed.Count, c.Consumed.Distinct().Count());
            Assert.True(consumedBeforeKill > 0);
            // Nothing of the killed worker is learned from after its death (a batch in flight at the kill at most).
            Assert.InRange(c.Consumed.Count(b => b.Worker == 1) - consumedBeforeKill, 0, 1);
            Assert.Contains(c.Consumed, b => b.Worker == 7);
            Assert.Contains(c.Consumed.Skip(c.Consumed.Count / 2), b => b.Worker == 0);
            Assert.True(survivor!.WaitForExit(TimeSpan.FromSeconds(20)) && late!.WaitForExit(TimeSpan.FromSeconds(20)), "workers did not exit after the run");
            Assert.Contains("the run is over", Log(dir, 7));
        }
        finally
        {
            foreach (var p in new[] { killed, survivor, late })
                if (p is { HasExited: false }) p.Kill();
        }
    }

    [Fact]
    public void AKilledLearnerResumesFromItsCheckpointAndWorkersReconnect()
    {
        using var temp = new TempDirectory();
        string parent = temp.Path;
        const int round = 64;
        var options = DistributedTrainingTests.CartPole(AlgorithmKind.Ppo, 21700, workers: 1, steps: 40 * round);
        options.Algorithm!.Ppo = new PpoOptions { RolloutSteps = 16, Epochs = 1, Minibatches = 1 };
        options.Training.CheckpointInterval = 10 * round;
        options.Distributed!.LocalWorkers = 0;
        string config = Path.Combine(parent, "experiment.json");
        File.WriteAllText(config, OptionsBinder.Serialize(options));
        var workers = new List<Process>();
        Process? first = null, second = null;
        try
        {
            var firstOutput = new System.Text.StringBuilder();
            first = Start(Rlagents, firstOutput, "run", config, "--output", parent);
            Assert.True(WaitFor(() => Directory.GetDirectories(parent).Length == 1, TimeSpan.FromSeconds(60)), "no run directory: " + firstOutput);
            string dir = Directory.GetDirectories(parent)[0];
            workers.Add(DistributedTraining.StartWorker(Rlagents, options.Distributed, 0, dir, FastTimeout));
            Assert.True(WaitFor(() => Checkpoint.Exists(dir), TimeSpan.FromSeconds(90)), "no checkpoint: " + Log(dir, 0));
            first.Kill();
            first.WaitForExit();

            var output = new System.Text.StringBuilder();
            second = Start(Rlagents, output, "run", "--resume", dir);
            Assert.True(second.WaitForExit(TimeSpan.FromSeconds(120)), "the resumed learner did not finish: " + output);
            second.WaitForExit();
            Assert.True(second.ExitCode == 0, output.ToString());
            var rows = File.ReadAllLines(Path.Combine(dir, TrainingRunner.MetricsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(40 * round, rows[^1].GetProperty("step").GetInt64());
            // Steps strictly increase across the resume: rows after the checkpoint were replaced, not duplicated.
            var steps = rows.Select(r => r.GetProperty("step").GetInt64()).ToList();
            Assert.Equal(steps.OrderBy(s => s).Distinct(), steps);
            Assert.All(workers, w => Assert.True(w.WaitForExit(TimeSpan.FromSeconds(20)), "a worker did not exit after the run"));
            Assert.Contains("registered again", Log(dir, 0));
        }
        finally
        {
            foreach (var p in workers.Append(first).Append(second))
                if (p is { HasExited: false }) p.Kill();
        }
    }

    [Fact]
    public async Task AWorkerWithADifferentConfigIsRefusedWithOneLine()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        var options = DistributedTrainingTests.CartPole(AlgorithmKind.Ppo, 21800);
        string config = Path.Combine(dir, "experiment.json");
        File.WriteAllText(config, OptionsBinder.Serialize(options));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders();
        builder.AddLearnerSilo(new Learner(options), options.Distributed!);
        using var silo = builder.Build();
        await silo.StartAsync();
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int code = await RLAgentsCli.RunAsync(["worker", "--learner", "127.0.0.1:21801", "--config", config, "--set", "algorithm.ppo.epochs=3"], output, error);
            Assert.Equal(RLAgentsCli.UsageError, code);
            string line = error.ToString().TrimEnd();
            Assert.DoesNotContain('\n', line);
            Assert.Contains("algorithm.ppo.epochs is 3, the learner's is 2", line);

            // The same config joins.
            // Stopped as soon as it has registered (or after 20 s, which fails the assertion below).
            var joined = new StringWriter();
            // The worker writes from its own thread; the synchronized writer locks itself, and so does the reader.
            var synced = TextWriter.Synchronized(joined);
            string Joined()
            {
                lock (synced) return joined.ToString();
            }
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var worker = RLAgentsCli.RunAsync(["worker", "--learner", "127.0.0.1:21801", "--config", config, "--set", "training.totalSteps=640"], synced, error, stop.Token);
            while (!worker.IsCompleted && !Joined().Contains("registered with the learner", StringComparison.Ordinal)) await Task.Delay(50);
            await stop.CancelAsync();
            Assert.Equal(RLAgentsCli.Ok, await worker);
            Assert.Contains("registered with the learner of 'cartpole-ppo-distributed'", Joined());
        }
        finally
        {
            await silo.StopAsync();
        }
    }

    /// <summary>Starts <c>rlagents</c> with its output collected into <paramref name="output"/> (drained, so a full pipe never blocks it).</summary>
    private static Process Start(WorkerCommand command, System.Text.StringBuilder output, params string[] args)
    {
        var info = new ProcessStartInfo(command.FileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command.Prefix.Concat(args)) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        void Append(string? line)
        {
            if (line is null) return;
            lock (output) output.AppendLine(line);
        }
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
