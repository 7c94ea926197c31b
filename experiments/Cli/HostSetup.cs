using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RLAgents.Environments;

namespace RLAgents.Experiments.Cli;

/// <summary>Service registration for the <c>rlagents</c> host.</summary>
public static class HostSetup
{
    /// <summary>Registers the environment registry and the console writers every verb uses.</summary>
    public static IHostApplicationBuilder AddRLAgents(this IHostApplicationBuilder builder, TextWriter output, TextWriter error)
    {
        // Verbs print their own user-facing output; framework logging stays quiet unless something is wrong.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(_ => EnvRegistry.CreateDefault());
        builder.Services.AddSingleton(new CliConsole(output, error));
        return builder;
    }
}

/// <summary>The output and error writers of one invocation (the process console, or a test's buffers).</summary>
public sealed record CliConsole(TextWriter Out, TextWriter Error);
