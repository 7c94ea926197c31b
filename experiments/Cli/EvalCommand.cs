using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Agents.Evaluation;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents eval &lt;checkpoint|run dir&gt; [--episodes N] [--seed S] [--sample] [--record LOG] [--paraphrases TABLE.json] [--set key=value]... [--json]</c>:
/// evaluation with robust statistics; with a paraphrase table, success on the original and on the reworded missions
/// side by side, over the same episode seeds.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(IServiceProvider services)
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint (.safetensors) written by a run, or a run directory (its latest checkpoint)." };
        var episodes = new Option<int>("--episodes") { Description = "Number of evaluation episodes.", DefaultValueFactory = _ => 20 };
        var seed = new Option<long>("--seed") { Description = "Evaluation seed (episode seeds derive from it).", DefaultValueFactory = _ => 0 };
        var record = new Option<string?>("--record") { Description = "Also write the evaluation episodes to this episode log." };
        var sample = new Option<bool>("--sample") { Description = "Sample actions from the policy instead of taking the argmax (BabyAI's evaluation; Q-networks always act greedily)." };
        var paraphrases = new Option<string?>("--paraphrases")
        {
            Description = "A paraphrase table ({\"replace\": {\"go to\": [\"walk over to\"], ...}}): also play the same episode seeds with the missions reworded and report both.",
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Override a key of the checkpoint's stored experiment before evaluating, e.g. --set env.options.heldOutMode=only (repeatable).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Print the results as one JSON object instead of text." };
        var eval = new Command("eval", "Evaluate a checkpoint's policy: mean, median, IQM of the return with 95% bootstrap CIs, and the success rate where the env reports it.")
            { checkpoint, episodes, seed, record, sample, paraphrases, set, json };
        eval.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string path = parse.GetValue(checkpoint)!;
            int n = parse.GetValue(episodes);
            if (n <= 0) throw new UserError($"--episodes must be positive, got {n}");
            if (!File.Exists(path) && !Directory.Exists(path)) throw new UserError($"checkpoint '{path}' does not exist");
            string? recordTo = parse.GetValue(record);
            if (recordTo is not null) Core.UserPaths.EnsureNotAnInput("--record", recordTo, path);
            var table = parse.GetValue(paraphrases) is { } tablePath ? ParaphraseTable.Load(tablePath) : null;
            bool sampled = parse.GetValue(sample);
            bool asJson = parse.GetValue(json);
            // JSON output is one document: no progress lines in it.
            var progress = new ProgressLine(asJson ? TextWriter.Null : console.Out);
            var report = Evaluator.Evaluate(path, n, parse.GetValue(seed), recordTo: recordTo, greedy: !sampled, paraphrases: table, overrides: parse.GetValue(set) ?? [],
                episodesDone: done => progress.Report("evaluation", done, n, "episodes"));
            progress.Finish();
            if (asJson)
            {
                console.Out.WriteLine(Json(report, sampled, recordTo).ToJsonString());
                return RLAgentsCli.Ok;
            }
            if (recordTo is not null) console.Out.WriteLine($"recorded {n} evaluation episodes to {recordTo}");
            var inv = CultureInfo.InvariantCulture;
            console.Out.WriteLine(string.Create(inv, $"checkpoint {report.Checkpoint} (step {report.Step}), {report.Outcomes.Returns.Length} episodes, seed {report.Seed}, {(sampled ? "sampled" : "greedy")} actions"));
            if (report.Paraphrased is { } p)
            {
                // Side by side over the same episode seeds.
                console.Out.WriteLine(string.Create(inv, $"                      original              paraphrased ({p.RewordedShare:P0} of episodes reworded)"));
                Line("mean  ", report.Summary.Mean, p.Summary.Mean);
                Line("median", report.Summary.Median, p.Summary.Median);
                Line("IQM   ", report.Summary.InterquartileMean, p.Summary.InterquartileMean);
                console.Out.WriteLine(string.Create(inv, $"  length mean {report.Outcomes.Lengths.Average(),9:F1}             {p.Outcomes.Lengths.Average(),9:F1}"));
                if (report.SuccessRate is double a && p.SuccessRate is double b)
                    console.Out.WriteLine(string.Create(inv, $"  success     {a,9:F3}             {b,9:F3}   (kept {(a > 0 ? b / a : double.NaN):P1})"));
                return RLAgentsCli.Ok;
            }
            var s = report.Summary;
            console.Out.WriteLine(string.Create(inv, $"  mean   {s.Mean.Value,9:F2}  95% CI [{s.Mean.Lower:F2}, {s.Mean.Upper:F2}]"));
            console.Out.WriteLine(string.Create(inv, $"  median {s.Median.Value,9:F2}  95% CI [{s.Median.Lower:F2}, {s.Median.Upper:F2}]"));
            console.Out.WriteLine(string.Create(inv, $"  IQM    {s.InterquartileMean.Value,9:F2}  95% CI [{s.InterquartileMean.Lower:F2}, {s.InterquartileMean.Upper:F2}]"));
            console.Out.WriteLine(string.Create(inv, $"  length mean {report.Outcomes.Lengths.Average():F1}"));
            if (report.SuccessRate is double rate) console.Out.WriteLine(string.Create(inv, $"  success {rate:F3}"));
            return RLAgentsCli.Ok;

            void Line(string name, Estimate original, Estimate reworded) => console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name} {original.Value,9:F2} [{original.Lower:F2}, {original.Upper:F2}]   {reworded.Value,9:F2} [{reworded.Lower:F2}, {reworded.Upper:F2}]"));
        });
        return eval;
    }

    /// <summary>
    /// One object, snake_case keys as in metrics.jsonl: the original evaluation's figures at the top level and, with
    /// a paraphrase table, the same under <c>paraphrased</c> plus <c>success_paraphrased</c> and <c>success_kept</c>.
    /// </summary>
    private static JsonObject Json(EvaluationReport report, bool sampled, string? recordTo)
    {
        var o = new JsonObject
        {
            ["checkpoint"] = report.Checkpoint,
            ["step"] = report.Step,
            ["seed"] = report.Seed,
            ["selection"] = sampled ? "sample" : "greedy",
        };
        if (recordTo is not null) o["recorded"] = recordTo;
        foreach (var (k, v) in Figures(report)) o[k] = v;
        if (report.Paraphrased is { } p)
        {
            var reworded = new JsonObject { ["reworded_share"] = p.RewordedShare };
            foreach (var (k, v) in Figures(p)) reworded[k] = v;
            o["paraphrased"] = reworded;
            o["success_paraphrased"] = p.SuccessRate;
            o["success_kept"] = report.SuccessRate is > 0 && p.SuccessRate is double b ? b / report.SuccessRate.Value : null;
        }
        return o;
    }

    private static IEnumerable<(string, JsonNode?)> Figures(EvaluationReport r)
    {
        var s = r.Summary;
        yield return ("episodes", r.Outcomes.Returns.Length);
        yield return ("success", r.SuccessRate);
        yield return ("return_mean", s.Mean.Value);
        yield return ("return_mean_ci", new JsonArray(s.Mean.Lower, s.Mean.Upper));
        yield return ("return_median", s.Median.Value);
        yield return ("return_iqm", s.InterquartileMean.Value);
        yield return ("return_iqm_ci", new JsonArray(s.InterquartileMean.Lower, s.InterquartileMean.Upper));
        yield return ("length_mean", r.Outcomes.Lengths.Average());
    }
}
