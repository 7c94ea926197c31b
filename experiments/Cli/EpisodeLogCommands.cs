using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Core;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;
using RLAgents.EpisodeLogs.Rendering;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// Episode-log verbs: <c>replay</c> (re-simulate and verify), <c>render</c> (ASCII, PNG, GIF, HTML),
/// and <c>episodes stats|to-sft|export</c>. A damaged log still yields every complete episode; the
/// damage is reported with its byte offset and the exit code is non-zero.
/// </summary>
internal static class EpisodeLogCommands
{
    /// <summary>Exit code when a log replays with a divergence or is damaged.</summary>
    public const int Divergent = 1;

    public static Command Replay(IServiceProvider services)
    {
        var log = new Argument<string>("log") { Description = "An episode log (an Arrow IPC stream: .arrows, or .arrow from earlier builds)." };
        var episode = new Option<long?>("--episode") { Description = "Replay only this episode index." };
        var verify = new Option<bool>("--verify") { Description = "Compare observations (or their hashes), rewards and flags with the log, step by step." };
        var force = new Option<bool>("--force") { Description = "Replay even if the log was recorded with another environment version." };
        var plugin = new Option<string?>("--plugin") { Description = "Assembly of a plug-in environment, if not at the recorded path." };
        var command = new Command("replay", "Re-simulate the episodes of a log from their recorded starts and actions.") { log, episode, verify, force, plugin };
        command.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string path = ExistingLog(parse.GetValue(log)!);
            var replayer = new Replayer(services.GetRequiredService<EnvRegistry>());
            var options = new ReplayOptions { Episode = parse.GetValue(episode), Force = parse.GetValue(force), PluginAssembly = parse.GetValue(plugin) };
            var report = replayer.Verify(path, options);
            if (!parse.GetValue(verify))
            {
                foreach (var e in report.Episodes) console.Out.WriteLine($"episode {e.Episode}: {e.StepsReplayed} steps re-simulated");
                foreach (var d in report.Damages) console.Error.WriteLine("error: " + d);
                return report.Damage is null ? RLAgentsCli.Ok : Divergent;
            }
            console.Out.WriteLine(report.Summary());
            return report.Success ? RLAgentsCli.Ok : Divergent;
        });
        return command;
    }

    public static Command Render(IServiceProvider services)
    {
        var log = new Argument<string>("log") { Description = "An episode log." };
        var episode = new Option<long>("--episode") { Description = "Episode index to render.", DefaultValueFactory = _ => 0 };
        var format = new Option<string>("--format") { Description = "ascii (print all), play (step with keys), png (one file per step), gif, html.", DefaultValueFactory = _ => "ascii" };
        var output = new Option<string?>("--out") { Description = "Output file (gif, html) or folder (png)." };
        var command = new Command("render", "Render an episode: ASCII, key-driven player, PNG frames, animated GIF, or a self-contained HTML viewer.") { log, episode, format, output };
        command.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string input = ExistingLog(parse.GetValue(log)!);
            if (parse.GetValue(output) is { } target) UserPaths.EnsureNotAnInput("--out", target, input);
            var data = EpisodeLogReader.ReadAll(input);
            var recorded = data.Episode(parse.GetValue(episode));
            var rendered = new EpisodeRenderer(new Replayer(services.GetRequiredService<EnvRegistry>())).Render(data.Header, recorded);
            string fmt = parse.GetValue(format)!;
            string? outPath = parse.GetValue(output);
            switch (fmt)
            {
                case "ascii":
                    AsciiPlayer.PrintAll(rendered, console.Out);
                    break;
                case "play":
                    if (Console.IsInputRedirected) throw new UserError("render --format play needs an interactive terminal; use --format ascii to print all steps.");
                    AsciiPlayer.Interactive(rendered, () => Console.ReadKey(intercept: true), console.Out, clearScreen: true);
                    break;
                case "png":
                    string folder = outPath ?? throw new UserError("render --format png needs --out <folder>");
                    if (File.Exists(folder)) throw new UserError($"render --format png writes one file per step into a folder; --out {folder} is a file");
                    Directory.CreateDirectory(folder);
                    PngEncoder.WriteAll(folder, rendered.Frames);
                    console.Out.WriteLine($"wrote {rendered.Frames.Count} PNG frames to {folder}");
                    break;
                case "gif":
                    GifEncoder.Write(outPath ?? throw new UserError("render --format gif needs --out <file.gif>"), rendered.Frames);
                    console.Out.WriteLine($"wrote {outPath}");
                    break;
                case "html":
                    HtmlViewer.Write(outPath ?? throw new UserError("render --format html needs --out <file.html>"), rendered);
                    console.Out.WriteLine($"wrote {outPath}");
                    break;
                default:
                    throw new UserError($"render: unknown format '{fmt}' (ascii, play, png, gif, html)");
            }
            foreach (var d in data.Damages) console.Error.WriteLine("error: " + d);
            return data.Damage is null ? RLAgentsCli.Ok : Divergent;
        });
        return command;
    }

    public static Command Episodes(IServiceProvider services)
    {
        var episodes = new Command("episodes", "Statistics and datasets from episode logs.");

        var logs = new Argument<string[]>("logs") { Description = "One or more episode logs.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var stats = new Command("stats", "Returns, lengths and success by level and phase.") { logs, json };
        stats.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            var s = EpisodeStats.FromFiles(parse.GetValue(logs)!.Select(ExistingLog));
            console.Out.WriteLine(parse.GetValue(json) ? s.ToJson() : s.ToTable());
            foreach (var d in s.Damaged) console.Error.WriteLine("error: " + d);
            return s.Damaged.Count == 0 ? RLAgentsCli.Ok : Divergent;
        });
        episodes.Subcommands.Add(stats);

        var sftLogs = new Argument<string[]>("logs") { Description = "One or more episode logs.", Arity = ArgumentArity.OneOrMore };
        var filter = new Option<string?>("--filter") { Description = "Comma-separated: success, minReturn=X, level=ID (repeatable), phase=NAME." };
        var output = new Option<string>("--out") { Description = "Episode log to write with the selected episodes (an SFT phase reads it as sft.demonstrationsFile).", Required = true };
        var toSft = new Command("to-sft", "Select the episodes that pass the filter into a new episode log: demonstrations for a supervised phase.") { sftLogs, filter, output };
        toSft.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            var f = ParseFilter(parse.GetValue(filter));
            var summary = new EpisodeSelection(new Replayer(services.GetRequiredService<EnvRegistry>()))
                .Write([.. parse.GetValue(sftLogs)!.Select(ExistingLog)], parse.GetValue(output)!, f);
            console.Out.WriteLine($"wrote {summary.Episodes} demonstrations ({summary.Steps} steps, {summary.Skipped} filtered out) to {summary.Output}");
            foreach (var d in summary.Damaged) console.Error.WriteLine("error: " + d);
            return summary.Damaged.Count == 0 ? RLAgentsCli.Ok : Divergent;
        });
        episodes.Subcommands.Add(toSft);

        var exportLog = new Argument<string>("log") { Description = "An episode log." };
        var exportFormat = new Option<string>("--format") { Description = "jsonl or parquet.", DefaultValueFactory = _ => "jsonl" };
        var exportFilter = new Option<string?>("--filter") { Description = "As for to-sft." };
        var exportOut = new Option<string>("--out") { Description = "File to write.", Required = true };
        var export = new Command("export", "Export a log's steps as a table (JSONL or Parquet).") { exportLog, exportFormat, exportFilter, exportOut };
        export.SetAction(async (parse, cancel) =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string input = ExistingLog(parse.GetValue(exportLog)!);
            string outPath = parse.GetValue(exportOut)!;
            UserPaths.EnsureNotAnInput("--out", outPath, input);
            var data = EpisodeLogReader.ReadAll(input);
            var f = ParseFilter(parse.GetValue(exportFilter));
            var summary = parse.GetValue(exportFormat) switch
            {
                "jsonl" => EpisodeExporter.ToJsonl(data, outPath, f),
                "parquet" => await EpisodeExporter.ToParquetAsync(data, outPath, f, cancel),
                var other => throw new UserError($"export: unknown format '{other}' (jsonl or parquet)"),
            };
            console.Out.WriteLine($"wrote {summary.Episodes} episodes ({summary.Steps} steps) to {summary.Output}");
            foreach (var d in data.Damages) console.Error.WriteLine("error: " + d);
            return data.Damage is null ? RLAgentsCli.Ok : Divergent;
        });
        episodes.Subcommands.Add(export);
        return episodes;
    }

    private static EpisodeFilter ParseFilter(string? text)
    {
        try { return EpisodeFilter.Parse(text); }
        catch (FormatException e) { throw new UserError(e.Message); }
    }

    private static string ExistingLog(string path) => File.Exists(path) ? path : throw new UserError($"episode log '{path}' does not exist");
}
