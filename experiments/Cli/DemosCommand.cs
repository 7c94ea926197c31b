using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Environments;
using RLAgents.Environments.GridWorld.Demonstrations;

namespace RLAgents.Experiments.Cli;

/// <summary><c>rlagents demos generate --env &lt;id&gt; --episodes N --out &lt;file&gt;</c>: expert-bot demonstrations.</summary>
internal static class DemosCommand
{
    public static Command Create(IServiceProvider services)
    {
        var env = new Option<string>("--env") { Description = "A GridWorld level id, e.g. BabyAI-GoToLocal-v0.", Required = true };
        var episodes = new Option<int>("--episodes") { Description = "Number of demonstrations.", DefaultValueFactory = _ => 100 };
        var output = new Option<string>("--out") { Description = "Output file (JSONL, one demonstration per line).", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed of the first episode (episode seeds derive from it).", DefaultValueFactory = _ => 0 };
        var descriptions = new Option<bool>("--descriptions") { Description = "Also record the text description of every view." };
        var generate = new Command("generate", "Generate expert-bot demonstrations for supervised fine-tuning.") { env, episodes, output, seed, descriptions };
        generate.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string id = parse.GetValue(env)!;
            int n = parse.GetValue(episodes);
            if (n <= 0) throw new UserError($"--episodes must be positive, got {n}");
            EnvsCommand.ResolveEnv(services.GetRequiredService<EnvRegistry>(), id);
            string outPath = parse.GetValue(output)!;
            if (Path.GetDirectoryName(Path.GetFullPath(outPath)) is { } dir) Directory.CreateDirectory(dir);
            var s = DemoGenerator.Generate(id, n, parse.GetValue(seed), outPath, parse.GetValue(descriptions));
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.EnvId}: wrote {s.Written} of {s.Attempted} episodes (mean length {s.MeanLength:F2}) to {outPath} in {s.Seconds:F1} s"));
            return s.Written == s.Attempted ? RLAgentsCli.Ok : 1;
        });
        var demos = new Command("demos", "Expert demonstrations.");
        demos.Subcommands.Add(generate);
        return demos;
    }
}
