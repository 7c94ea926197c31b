using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Environments;
using RLAgents.Environments.EpisodeLogs;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Bot;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents record --env &lt;id&gt; --policy random|bot --episodes N --out &lt;log&gt;</c>: plays episodes
/// with a random policy or the GridWorld expert bot and writes them to an episode log. (Training runs
/// record through their experiment's <c>recording</c> section.)
/// </summary>
internal static class RecordCommand
{
    public static Command Create(IServiceProvider services)
    {
        var env = new Option<string>("--env") { Description = "A registered id or a plug-in path.dll:Namespace.Type.", Required = true };
        var policy = new Option<string>("--policy") { Description = "random, or bot (the GridWorld expert).", DefaultValueFactory = _ => "random" };
        var episodes = new Option<int>("--episodes") { Description = "Number of episodes.", DefaultValueFactory = _ => 10 };
        var seed = new Option<long>("--seed") { Description = "Episode seeds and random actions derive from it.", DefaultValueFactory = _ => 0 };
        var hashes = new Option<bool>("--hashes") { Description = "Store 64-bit observation hashes instead of observations." };
        var output = new Option<string>("--out") { Description = "Episode log to write (Arrow IPC stream).", Required = true };
        var command = new Command("record", "Play episodes with a random policy or the expert bot and record them to an episode log.") { env, policy, episodes, seed, hashes, output };
        command.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            var registry = services.GetRequiredService<EnvRegistry>();
            var registration = EnvsCommand.ResolveEnv(registry, parse.GetValue(env)!);
            int n = parse.GetValue(episodes);
            if (n <= 0) throw new UserError($"--episodes must be positive, got {n}");
            string kind = parse.GetValue(policy)!;
            if (kind is not ("random" or "bot")) throw new UserError($"--policy must be random or bot, not '{kind}'");
            ulong root = unchecked((ulong)parse.GetValue(seed));
            string? plugin = EnvRegistry.IsPluginSpec(parse.GetValue(env)!) ? parse.GetValue(env) : null;

            var inner = registry.Make(registration.Id.ToString());
            var grid = inner.Find<GridWorldEnv>();
            if (kind == "bot" && grid is null) throw new UserError($"--policy bot needs a GridWorld level; {registration.Id} is not one");
            var options = new EpisodeRecorderOptions { ObservationHashes = parse.GetValue(hashes) };
            var recorder = EpisodeRecorder.Create(inner, parse.GetValue(output)!, out var writer, options, plugin: plugin);
            using (writer)
            using (recorder)
            {
                recorder.Phase = kind;
                var actions = new Rng(Rng.DeriveSeed(root, "record-actions"));
                var bot = new ExpertPolicy();
                double total = 0;
                for (int e = 0; e < n; e++)
                {
                    recorder.Reset(unchecked((long)Rng.DeriveSeed(root, "record-episode", e)));
                    StepResult step;
                    do
                    {
                        int a = kind == "bot" ? bot.Act(grid!) : recorder.ActionSpace.AsDiscrete("Episode recording").Sample(actions);
                        step = recorder.Step(a);
                        total += step.Reward;
                    } while (!step.Done);
                }
                console.Out.WriteLine(FormattableString.Invariant($"recorded {n} {registration.Id} episodes ({kind} policy, mean return {total / n:F3}) to {parse.GetValue(output)}"));
            }
            return RLAgentsCli.Ok;
        });
        return command;
    }
}
