using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Environments;

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
        return envs;
    }
}
