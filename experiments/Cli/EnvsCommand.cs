using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Environments;
using RLAgents.Environments.Checking;

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

    /// <summary><c>rlagents envs check &lt;id|path.dll:Namespace.Type&gt;</c>: runs the env checker.</summary>
    private static Command CreateCheck(IServiceProvider services)
    {
        var target = new Argument<string>("env") { Description = "A registered id (CartPole-v1) or a plug-in: path/to/Assembly.dll:Namespace.TypeName." };
        var steps = new Option<int>("--steps") { Description = "Steps per checked rollout.", DefaultValueFactory = _ => 500 };
        var seed = new Option<long>("--seed") { Description = "Seed of the checked rollouts.", DefaultValueFactory = _ => 0 };
        var check = new Command("check", "Check that an environment honours the contract (spaces, seeding, reset/step bookkeeping, finite observations).") { target, steps, seed };
        check.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            var registration = ResolveEnv(services.GetRequiredService<EnvRegistry>(), parse.GetValue(target)!);
            var report = EnvChecker.Check(() => registration.CreateUnwrapped(), parse.GetValue(steps), parse.GetValue(seed));
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
