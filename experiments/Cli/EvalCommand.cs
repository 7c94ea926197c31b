using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Agents.Evaluation;

namespace RLAgents.Experiments.Cli;

/// <summary><c>rlagents eval &lt;checkpoint|run dir&gt; [--episodes N] [--seed S] [--sample] [--record LOG]</c>: evaluation with robust statistics.</summary>
internal static class EvalCommand
{
    public static Command Create(IServiceProvider services)
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint (.safetensors) written by a run, or a run directory (its latest checkpoint)." };
        var episodes = new Option<int>("--episodes") { Description = "Number of evaluation episodes.", DefaultValueFactory = _ => 20 };
        var seed = new Option<long>("--seed") { Description = "Evaluation seed (episode seeds derive from it).", DefaultValueFactory = _ => 0 };
        var record = new Option<string?>("--record") { Description = "Also write the evaluation episodes to this episode log." };
        var sample = new Option<bool>("--sample") { Description = "Sample actions from the policy instead of taking the argmax (BabyAI's evaluation; Q-networks always act greedily)." };
        var eval = new Command("eval", "Evaluate a checkpoint's policy: mean, median, IQM of the return with 95% bootstrap CIs, and the success rate where the env reports it.")
            { checkpoint, episodes, seed, record, sample };
        eval.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string path = parse.GetValue(checkpoint)!;
            int n = parse.GetValue(episodes);
            if (n <= 0) throw new UserError($"--episodes must be positive, got {n}");
            if (!File.Exists(path) && !Directory.Exists(path)) throw new UserError($"checkpoint '{path}' does not exist");
            string? recordTo = parse.GetValue(record);
            if (recordTo is not null) Core.UserPaths.EnsureNotAnInput("--record", recordTo, path);
            var report = Evaluator.Evaluate(path, n, parse.GetValue(seed), recordTo: recordTo, greedy: !parse.GetValue(sample));
            if (recordTo is not null) console.Out.WriteLine($"recorded {n} evaluation episodes to {recordTo}");
            var s = report.Summary;
            var inv = CultureInfo.InvariantCulture;
            console.Out.WriteLine(string.Create(inv, $"checkpoint {report.Checkpoint} (step {report.Step}), {report.Outcomes.Returns.Length} episodes, seed {report.Seed}, {(parse.GetValue(sample) ? "sampled" : "greedy")} actions"));
            console.Out.WriteLine(string.Create(inv, $"  mean   {s.Mean.Value,9:F2}  95% CI [{s.Mean.Lower:F2}, {s.Mean.Upper:F2}]"));
            console.Out.WriteLine(string.Create(inv, $"  median {s.Median.Value,9:F2}  95% CI [{s.Median.Lower:F2}, {s.Median.Upper:F2}]"));
            console.Out.WriteLine(string.Create(inv, $"  IQM    {s.InterquartileMean.Value,9:F2}  95% CI [{s.InterquartileMean.Lower:F2}, {s.InterquartileMean.Upper:F2}]"));
            console.Out.WriteLine(string.Create(inv, $"  length mean {report.Outcomes.Lengths.Average():F1}"));
            if (report.SuccessRate is double rate) console.Out.WriteLine(string.Create(inv, $"  success {rate:F3}"));
            return RLAgentsCli.Ok;
        });
        return eval;
    }
}
