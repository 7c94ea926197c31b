using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RLAgents.Agents.Training;
using RLAgents.Core;
using RLAgents.Environments.Configuration;

namespace RLAgents.Distributed;

/// <summary>How to start this program's <c>worker</c> verb: the executable and the arguments before the verb.</summary>
/// <param name="FileName">The executable (the <c>rlagents</c> app host, or <c>dotnet</c>).</param>
/// <param name="Prefix">Arguments before <c>worker</c> (the assembly path when run through <c>dotnet</c>).</param>
public sealed record WorkerCommand(string FileName, IReadOnlyList<string> Prefix);

/// <summary>
/// A distributed training run in the learner's process: the learner silo, the local worker processes, and the
/// one <see cref="TrainingRunner"/> fed by the <see cref="Learner"/>. The run directory is a local run's
/// (config, run info, metrics, checkpoints, <c>--resume</c>) plus <c>workers/worker-K.log</c> for local workers'
/// output and <c>distributed.json</c> with the learner's batch accounting.
/// </summary>
public static class DistributedTraining
{
    /// <summary>Name of the batch-accounting file in a distributed run's directory.</summary>
    public const string AccountingFile = "distributed.json";

    /// <summary>
    /// Trains <paramref name="options"/> (which has a <c>distributed</c> section) into <paramref name="runDirectory"/> as
    /// <see cref="TrainingRunner.Run"/> does, with rollouts from workers: <c>distributed.localWorkers</c> processes started
    /// with <paramref name="workers"/> (null starts none) and any that join with <c>rlagents worker</c>. <paramref name="started"/>
    /// sees the learner once its silo listens; <paramref name="notice"/> hears what <see cref="TrainingRunner.Run"/> tells the user.
    /// When the run ends the workers are told to exit.
    /// </summary>
    /// <exception cref="OperationCanceledException">Stopped while no batches arrived (no live workers); <c>--resume</c> continues from the latest checkpoint.</exception>
    public static RunResult Run(ExperimentOptions options, string runDirectory, bool resume, Action<RunProgress>? progress, CancellationToken cancellation,
        WorkerCommand? workers, IConfiguration? configuration = null, Action<Learner>? started = null, Action<string>? notice = null)
    {
        options.Validate();
        var distributed = options.Distributed ?? throw new ArgumentException("The experiment has no distributed section.", nameof(options));
        var learner = new Learner(options);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
        if (configuration is not null) builder.Configuration.AddConfiguration(configuration);
        builder.Logging.ClearProviders();
        builder.AddLearnerSilo(learner, distributed);
        using var host = builder.Build();
        try
        {
            host.StartAsync(cancellation).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is OrleansException or System.Net.Sockets.SocketException or IOException)
        {
            throw new ConfigurationException("distributed", $"the learner silo could not listen on {distributed.Host}:{distributed.SiloPort} (gateway {distributed.GatewayPort}): {e.Message}");
        }
        // A stop request lets the current iteration finish (workers deliver its batches); only a learner left without
        // batches gives up waiting, after a grace period.
        using var stopping = new CancellationTokenSource();
        using var onCancel = cancellation.Register(() => stopping.CancelAfter(TimeSpan.FromSeconds(10)));
        learner.Stopping = stopping.Token;
        started?.Invoke(learner);
        var processes = new List<Process>();
        try
        {
            if (workers is not null)
                for (int k = 0; k < (distributed.LocalWorkers ?? distributed.Workers); k++)
                    processes.Add(StartWorker(workers, distributed, k, runDirectory));
            return TrainingRunner.Run(options, runDirectory, resume, progress, cancellation, notice, learner);
        }
        finally
        {
            learner.Finish();
            foreach (var p in processes)
            {
                if (!p.WaitForExit(TimeSpan.FromSeconds(15))) p.Kill(entireProcessTree: true);
                p.Dispose();
            }
            if (Directory.Exists(runDirectory)) WriteAccounting(runDirectory, learner.Counters);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            host.StopAsync(timeout.Token).GetAwaiter().GetResult();
        }
    }

    /// <summary>Starts local worker <paramref name="index"/>: it asks for that id, exits with this process, and writes to <c>workers/worker-K.log</c>.</summary>
    public static Process StartWorker(WorkerCommand command, DistributedOptions distributed, int index, string runDirectory, params string[] extra)
    {
        string logs = Path.Combine(runDirectory, "workers");
        Directory.CreateDirectory(logs);
        var info = new ProcessStartInfo(command.FileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command.Prefix) info.ArgumentList.Add(a);
        foreach (var a in new[] { "worker", "--learner", $"{distributed.Host}:{distributed.GatewayPort}", "--id", index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--exit-with", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            info.ArgumentList.Add(a);
        foreach (var a in extra) info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {command.FileName}.");
        var log = new StreamWriter(Path.Combine(logs, $"worker-{index}.log"), append: true) { AutoFlush = true };
        var gate = new object();
        void Write(string? line)
        {
            if (line is null) return;
            lock (gate) log.WriteLine(line);
        }
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) =>
        {
            process.WaitForExit();
            lock (gate) log.Dispose();
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void WriteAccounting(string runDirectory, LearnerCounters c) =>
        AtomicFile.WriteText(Path.Combine(runDirectory, AccountingFile), JsonSerializer.Serialize(new
        {
            accepted = c.Accepted, duplicates = c.Duplicates, stale = c.Stale, consumed_batches = c.Consumed.Count, consumed_env_steps = c.ConsumedSteps,
            batches_per_worker = c.Consumed.GroupBy(b => b.Worker).OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), g => g.Count()),
        }, new JsonSerializerOptions { WriteIndented = true }));
}
