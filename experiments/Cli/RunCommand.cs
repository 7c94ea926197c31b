using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents run &lt;experiment.json&gt; [--set path=value]... [--output DIR]</c> and
/// <c>rlagents run --resume &lt;run dir&gt;</c>: trains into a fresh run directory, or continues one.
/// </summary>
internal static class RunCommand
{
    public static Command Create(IServiceProvider services)
    {
        var file = new Argument<string?>("experiment") { Description = "Experiment file (JSON), e.g. experiments/configs/cartpole-ppo.json.", Arity = ArgumentArity.ZeroOrOne };
        var set = new Option<string[]>("--set") { Description = "Override a key before validation: --set algorithm.ppo.learningRate=0.001 (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string>("--output") { Description = "Parent folder of the run directory.", DefaultValueFactory = _ => "runs" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this run directory from its latest checkpoint." };
        var run = new Command("run", "Train an experiment file, or resume a run directory.") { file, set, output, resume };
        // Ctrl+C / SIGTERM cancel the token: training stops at its next iteration, writes a checkpoint
        // (`run --resume` continues from it) and exits with Interrupted.
        // The action must return a running task: System.CommandLine installs its signal handler only once the
        // action has returned one, so a synchronous body would never see the signal.
        run.SetAction((parse, cancellation) => Task.Run(() => Execute(parse, cancellation), CancellationToken.None));
        return run;

        int Execute(ParseResult parse, CancellationToken cancellation)
        {
            var console = services.GetRequiredService<CliConsole>();
            string? resumeDir = parse.GetValue(resume);
            string? path = parse.GetValue(file);
            string[] overrides = parse.GetValue(set) ?? [];
            if (PhasedRun.Handles(path, resumeDir)) return PhasedRun.Run(console.Out, path, overrides, parse.GetValue(output)!, resumeDir, cancellation);
            ExperimentOptions options;
            string runDir;
            if (resumeDir is not null)
            {
                if (path is not null || overrides.Length > 0)
                    throw new UserError("--resume continues a run with its own stored configuration; pass no experiment file or --set with it.");
                if (!Directory.Exists(resumeDir)) throw new UserError($"run directory '{resumeDir}' does not exist");
                options = TrainingRunner.LoadRunConfig(resumeDir);
                runDir = resumeDir;
            }
            else
            {
                if (path is null) throw new UserError("run needs an experiment file (or --resume <run dir>).");
                options = Load(path, overrides);
                runDir = NewRunDirectory(parse.GetValue(output)!, options.Name);
            }

            console.Out.WriteLine($"{(resumeDir is null ? "run" : "resume")} {options.Name}: {options.Env.Id}, {options.Algorithm.Kind}, seed {options.Seed} → {runDir}");
            var bar = new ProgressLine(console.Out);
            var result = TrainingRunner.Run(options, runDir, resume: resumeDir is not null, progress: bar.Report, cancellation: cancellation);
            bar.Finish();
            console.Out.WriteLine(Summary(result));
            if (!cancellation.IsCancellationRequested || result.Steps >= options.Training.TotalSteps) return RLAgentsCli.Ok;
            console.Out.WriteLine($"interrupted at step {result.Steps}; continue with: rlagents run --resume {runDir}");
            return RLAgentsCli.Interrupted;
        }
    }

    /// <summary>Reads an experiment file, applies <c>--set</c> overrides and binds it strictly.</summary>
    internal static ExperimentOptions Load(string path, IEnumerable<string> overrides)
    {
        var root = OptionsBinder.LoadFile(path);
        foreach (var o in overrides) OptionsBinder.ApplyOverride(root, o);
        using var doc = JsonDocument.Parse(root.ToJsonString());
        var options = OptionsBinder.Bind<ExperimentOptions>(doc.RootElement);
        options.Validate();
        return options;
    }

    private static string NewRunDirectory(string parent, string name)
    {
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string dir = Path.Combine(parent, $"{name}-{stamp}");
        for (int i = 2; Directory.Exists(dir); i++) dir = Path.Combine(parent, $"{name}-{stamp}-{i}");
        return dir;
    }

    private static string Summary(TrainingResult r)
    {
        var s = FormattableString.Invariant($"done: {r.Steps} steps in {r.Seconds:F1} s ({r.Steps / Math.Max(r.Seconds, 1e-9):F0} steps/s)");
        if (r.SolvedAtStep is long at) s += FormattableString.Invariant($"; rolling return reached the target at step {at} ({r.SolvedAtSeconds:F1} s)");
        if (r.FinalEvaluation is { } e)
            s += FormattableString.Invariant($"\nfinal greedy evaluation over {e.Returns.Length} episodes: mean {e.Summary.Mean.Value:F1} [{e.Summary.Mean.Lower:F1}, {e.Summary.Mean.Upper:F1}], IQM {e.Summary.InterquartileMean.Value:F1}");
        s += $"\ncheckpoint: {r.FinalCheckpoint}\nmetrics:    {Path.Combine(r.RunDirectory, TrainingRunner.MetricsFile)}";
        return s;
    }
}
