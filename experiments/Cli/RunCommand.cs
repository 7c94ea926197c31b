using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Agents.Training;
using RLAgents.Distributed;
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
            ExperimentOptions options;
            string runDir;
            if (resumeDir is not null)
            {
                if (path is not null || overrides.Length > 0)
                    throw new UserError("--resume continues a run with its own stored configuration; pass no experiment file or --set with it.");
                options = TrainingRunner.LoadRunConfig(resumeDir);
                runDir = resumeDir;
            }
            else
            {
                if (path is null) throw new UserError("run needs an experiment file (or --resume <run dir>).");
                options = Load(path, overrides);
                string parent = parse.GetValue(output)!;
                if (File.Exists(parent)) throw new UserError($"--output {parent} is a file; give the folder that holds run directories");
                runDir = NewRunDirectory(parent, options.Name);
            }

            void Notice(string line) => console.Error.WriteLine("warning: " + RLAgentsCli.OneLine(line));
            AgentFactory.ResolveEnvironment(options, Notice);
            var schedule = options.Schedule;
            string what = schedule.Count == 1 ? schedule[0].Kind.ToString().ToLowerInvariant() : $"{schedule.Count} phases";
            string env = options.Env.Plugin is { } plugin ? $"{options.Env.Id} (plug-in {plugin})" : options.Env.Id;
            console.Out.WriteLine($"{(resumeDir is null ? "run" : "resume")} {options.Name}: {env}, {what}, seed {options.Seed} → {runDir}");
            var bar = new ProgressLine(console.Out);
            void RunNotice(string line)
            {
                bar.Finish();
                Notice(line);
            }
            RunResult result;
            if (options.Distributed is { } distributed)
            {
                console.Out.WriteLine($"learner listening on {distributed.Host}:{distributed.GatewayPort}; join more workers with: rlagents worker --learner {distributed.Host}:{distributed.GatewayPort}");
                try
                {
                    result = DistributedTraining.Run(options, runDir, resumeDir is not null, bar.Report, cancellation, WorkerVerb.Self(), notice: RunNotice);
                }
                catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
                {
                    bar.Finish();
                    console.Out.WriteLine($"interrupted while no worker delivered batches; continue from the latest checkpoint with: rlagents run --resume {runDir}");
                    return RLAgentsCli.Interrupted;
                }
            }
            else result = TrainingRunner.Run(options, runDir, resume: resumeDir is not null, progress: bar.Report, cancellation: cancellation, notice: RunNotice);
            bar.Finish();
            console.Out.WriteLine(Summary(result));
            if (!result.Interrupted) return RLAgentsCli.Ok;
            console.Out.WriteLine($"interrupted at step {result.EnvSteps}; continue with: rlagents run --resume {runDir}");
            return RLAgentsCli.Interrupted;
        }
    }

    /// <summary>Reads an experiment file, applies <c>--set</c> overrides and binds it strictly.</summary>
    internal static ExperimentOptions Load(string path, IEnumerable<string> overrides)
    {
        return TrainingRunner.Load(path, overrides);
    }

    private static string NewRunDirectory(string parent, string name)
    {
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string dir = Path.Combine(parent, $"{name}-{stamp}");
        for (int i = 2; Directory.Exists(dir); i++) dir = Path.Combine(parent, $"{name}-{stamp}-{i}");
        return dir;
    }

    private static string Summary(RunResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        if (r.AlreadyFinished)
            return string.Create(inv, $"already finished: {r.EnvSteps} env steps, {r.EnvEpisodes} episodes, {r.Demonstrations} demonstrations in {r.Seconds:F1} s; nothing left to run")
                + (r.FinalCheckpoint is { } c ? $"\ncheckpoint: {c}" : "");
        var s = string.Create(inv, $"{(r.Interrupted ? "stopped" : "done")}: {r.ProcessEnvSteps} env steps in {r.ProcessSeconds:F1} s ({r.StepsPerSecond:F0} steps/s)");
        if (r.SolvedAtStep is long at) s += string.Create(inv, $"; rolling return reached the target at step {at}{(r.SolvedAtSeconds is double t ? $" ({t:F1} s)" : "")}");
        foreach (var p in r.Phases)
            s += string.Create(inv, $"\n  phase {p.Index} {p.Name}: {p.EnvSteps} env steps, {p.EnvEpisodes} episodes, {p.Demonstrations} demonstrations, {p.Seconds:F0} s; evaluation {Describe(p.Evaluation)}");
        if (r.FinalEvaluation is { } e) s += $"\nfinal evaluation over {e.Episodes} episodes: {Describe(e)}";
        if (r.FinalCheckpoint is { } checkpoint) s += $"\ncheckpoint: {checkpoint}";
        s += $"\nmetrics:    {Path.Combine(r.RunDirectory, TrainingRunner.MetricsFile)}";
        return s;
    }

    private static string Describe(EvaluationSummary e) =>
        string.Create(CultureInfo.InvariantCulture, $"mean return {e.MeanReturn:F2}, IQM {e.IqmReturn:F2}{(e.SuccessRate is double rate ? $", success {rate:F3}" : "")}");
}
