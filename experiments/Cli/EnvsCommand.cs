using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Environments;
using RLAgents.Environments.Checking;
using RLAgents.Environments.Configuration;

namespace RLAgents.Experiments.Cli;

/// <summary><c>rlagents envs</c>: registered environments and their spaces.</summary>
internal static class EnvsCommand
{
    public static Command Create(IServiceProvider services)
    {
        var envs = new Command("envs", "List registered environments with their observation and action spaces.");
        envs.SetAction(_ =>
        {
            var console = services.GetRequiredService<CliConsole>();
            var registry = services.GetRequiredService<EnvRegistry>();
            foreach (var r in registry.All)
            {
                using var env = r.CreateUnwrapped();
                string limit = r.MaxEpisodeSteps is int n ? $"{n} steps" : "no step limit";
                console.Out.WriteLine($"{r.Id}  ({limit}) {r.Description}");
                console.Out.WriteLine($"    observation: {env.ObservationSpace}");
                console.Out.WriteLine($"    action:      {env.ActionSpace}");
            }
            return RLAgentsCli.Ok;
        });
        envs.Subcommands.Add(CreateCheck(services));
        return envs;
    }

    /// <summary>
    /// <c>rlagents envs check &lt;id|path.dll:Namespace.Type&gt; [--options JSON] [--max-episode-steps N]</c>: runs the env
    /// checker on the env as training builds it (its options, time limit and statistics wrappers).
    /// </summary>
    private static Command CreateCheck(IServiceProvider services)
    {
        var target = new Argument<string>("env") { Description = "A registered id (CartPole-v1) or a plug-in: path/to/Assembly.dll:Namespace.TypeName." };
        var steps = new Option<int>("--steps") { Description = "Steps per checked rollout (every one is checked; rare faults need many).", DefaultValueFactory = _ => EnvChecker.DefaultSteps };
        var seed = new Option<long>("--seed") { Description = "Seed of the checked rollouts.", DefaultValueFactory = _ => 0 };
        var envOptions = new Option<string?>("--options") { Description = "The env's options as JSON, as in an experiment's env.options: --options '{\"length\": 4}'." };
        var maxSteps = new Option<int?>("--max-episode-steps") { Description = "Time limit to check under, as env.maxEpisodeSteps (default: the registration's)." };
        var check = new Command("check", "Check that an environment honours the contract (spaces, shapes, seeding, reset/step bookkeeping, finite values, independent instances) on every step.")
            { target, steps, seed, envOptions, maxSteps };
        check.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            int n = parse.GetValue(steps);
            if (n < 1) throw new UserError($"--steps must be at least 1, got {n}");
            if (parse.GetValue(maxSteps) is int limit && limit < 1) throw new UserError($"--max-episode-steps must be at least 1, got {limit}");
            var registry = services.GetRequiredService<EnvRegistry>();
            string spec = parse.GetValue(target)!;
            var registration = ResolveEnv(registry, spec);
            object? options = null;
            if (parse.GetValue(envOptions) is { } json)
            {
                JsonDocument doc;
                try
                {
                    doc = JsonDocument.Parse(json);
                }
                catch (JsonException e)
                {
                    throw new ConfigurationException("--options", $"not valid JSON: {e.Message.Split(". ")[0]}");
                }
                using (doc) options = OptionsBinder.Bind(doc.RootElement, registration.OptionsType, "--options");
            }
            var report = EnvChecker.Check(() => registry.Make(spec, options, parse.GetValue(maxSteps)), n, parse.GetValue(seed));
            foreach (var c in report.Checks) console.Out.WriteLine(c.ToString());
            console.Out.WriteLine(report.Passed ? $"{registration.Id}: all checks passed" : $"{registration.Id}: {report.Failures.Count()} check(s) failed");
            return report.Passed ? RLAgentsCli.Ok : 1;
        });
        return check;
    }

    /// <summary>A registered id or a plug-in spec; an unknown id or a bad plug-in is a user error.</summary>
    internal static EnvRegistration ResolveEnv(EnvRegistry registry, string idOrSpec)
    {
        try
        {
            return registry.Resolve(idOrSpec);
        }
        catch (KeyNotFoundException e)
        {
            throw new UserError(e.Message);
        }
    }
}
