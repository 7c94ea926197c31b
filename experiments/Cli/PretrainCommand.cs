using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Environments.Configuration;
using RLAgents.LanguageModel.Training;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents pretrain &lt;config.json&gt; [--set path=value]... [--output DIR]</c> and
/// <c>rlagents pretrain --resume &lt;run dir&gt;</c>: causal-LM pretraining of the backbone on a text corpus.
/// </summary>
internal static class PretrainCommand
{
    public static Command Create(IServiceProvider services)
    {
        var file = new Argument<string?>("config") { Description = "Pretraining config (JSON), e.g. experiments/configs/pretrain-tiny.json.", Arity = ArgumentArity.ZeroOrOne };
        var set = new Option<string[]>("--set") { Description = "Override a key before validation (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string>("--output") { Description = "Parent folder of the run directory.", DefaultValueFactory = _ => "runs" };
        var resume = new Option<string?>("--resume") { Description = "Continue the pretraining run in this directory from its latest checkpoint." };
        var command = new Command("pretrain", "Pretrain the GPT backbone (causal language modelling) on a text corpus.") { file, set, output, resume };
        command.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string? resumeDir = parse.GetValue(resume);
            string? path = parse.GetValue(file);
            string[] overrides = parse.GetValue(set) ?? [];
            PretrainOptions options;
            string runDir;
            if (resumeDir is not null)
            {
                if (path is not null || overrides.Length > 0) throw new UserError("--resume continues a run with its stored configuration; pass no config file or --set with it.");
                // Run directories of earlier builds kept the options in pretrain.json.
                string stored = Path.Combine(resumeDir, Pretrainer.ConfigFile);
                if (!File.Exists(stored)) stored = Path.Combine(resumeDir, "pretrain.json");
                if (!File.Exists(stored)) throw new UserError($"'{resumeDir}' is not a pretraining run directory (no {Pretrainer.ConfigFile})");
                options = OptionsBinder.BindFile<PretrainOptions>(stored);
                runDir = resumeDir;
            }
            else
            {
                if (path is null) throw new UserError("pretrain needs a config file (or --resume <run dir>).");
                var root = OptionsBinder.LoadFile(path);
                foreach (var o in overrides) OptionsBinder.ApplyOverride(root, o);
                using var doc = JsonDocument.Parse(root.ToJsonString());
                options = OptionsBinder.Bind<PretrainOptions>(doc.RootElement);
                // Relative corpus and tokenizer paths are relative to the config file, so configs travel with their data.
                string baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
                if (options.CorpusPath is { } c && !Path.IsPathRooted(c)) options.CorpusPath = Path.Combine(baseDir, c);
                if (options.TokenizerDirectory is { } t && !Path.IsPathRooted(t)) options.TokenizerDirectory = Path.Combine(baseDir, t);
                if (options.CorpusPath is null || !File.Exists(options.CorpusPath))
                    throw new ConfigurationException("corpusPath", options.CorpusPath is null ? "is required" : $"file '{options.CorpusPath}' does not exist");
                runDir = Path.Combine(parse.GetValue(output)!, "pretrain-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));

            }

            console.Out.WriteLine($"pretrain {options.Model.NLayer} layers × {options.Model.NEmbd} wide on {options.CorpusPath} → {runDir}");
            var progress = new Progress(new ProgressLine(console.Out), options.Steps);
            var result = Pretrainer.Run(options, runDir, resume: resumeDir is not null, progress);
            progress.Line.Finish();
            console.Out.WriteLine(FormattableString.Invariant($"done: step {result.Step}, eval loss {result.FinalEvalLoss:F4} (perplexity {Math.Exp(result.FinalEvalLoss):F2})"));
            console.Out.WriteLine($"checkpoint: {result.CheckpointDirectory}");
            return RLAgentsCli.Ok;
        });
        return command;
    }

    /// <summary>Shows the pretraining steps on a <see cref="ProgressLine"/> with the latest loss, learning rate, throughput and held-out perplexity.</summary>
    private sealed class Progress(ProgressLine line, int totalSteps) : IProgress<PretrainMetrics>
    {
        private double? _loss, _tokensPerSecond, _perplexity;
        private double _learningRate;

        public ProgressLine Line => line;

        public void Report(PretrainMetrics m)
        {
            (_loss, _tokensPerSecond, _learningRate) = (m.TrainLoss ?? _loss, m.TokensPerSecond ?? _tokensPerSecond, m.LearningRate);
            _perplexity = m.EvalPerplexity ?? _perplexity;
            string detail = FormattableString.Invariant($"loss {_loss:F4}  lr {_learningRate:E2}  {_tokensPerSecond:F0} tokens/s")
                + (_perplexity is double p ? FormattableString.Invariant($"  eval perplexity {p:F2}") : "");
            line.Report("pretrain", m.Step, totalSteps, "steps", detail);
        }
    }
}
