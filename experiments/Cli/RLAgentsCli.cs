using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.EpisodeLogs;
using RLAgents.LanguageModel.Checkpoints;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// Entry point of the <c>rlagents</c> command, callable in-process (the end-to-end tests do).
/// User mistakes (<see cref="UserError"/>, <see cref="ConfigurationException"/>, invalid actions,
/// missing files) print one line on the error writer and exit with code 2; anything else is a
/// bug and keeps its stack trace (exit code 1).
/// </summary>
public static class RLAgentsCli
{
    /// <summary>Exit code for success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code for a user mistake (bad config, bad arguments, bad input file).</summary>
    public const int UsageError = 2;

    /// <summary>Exit code of a run stopped by Ctrl+C / SIGTERM after it checkpointed (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    /// <summary>Runs one invocation with <paramref name="args"/>, writing to the given writers.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellation = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.AddRLAgents(output, error);
        using var host = builder.Build();

        var root = new RootCommand("RLAgents: reinforcement-learning agents on a pretrained Transformer backbone.");
        foreach (var command in Commands(host.Services)) root.Subcommands.Add(command);

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) await error.WriteLineAsync($"error: {e.Message}");
            await error.WriteLineAsync("Run 'rlagents --help' for usage.");
            return UsageError;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = output, Error = error, EnableDefaultExceptionHandler = false,
                // Ctrl+C gives `run` time to finish its iteration, evaluate and checkpoint before the process ends;
                // other verbs keep System.CommandLine's 2 s (they do not checkpoint anything).
                ProcessTerminationTimeout = parse.CommandResult.Command.Name == "run" ? TimeSpan.FromMinutes(5) : TimeSpan.FromSeconds(2),
            }, cancellation);
        }
        catch (Exception e) when (IsUserError(e))
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return UsageError;
        }
    }

    private static IEnumerable<Command> Commands(IServiceProvider services)
    {
        yield return RunCommand.Create(services);
        yield return WorkerVerb.Create(services);
        yield return EvalCommand.Create(services);
        yield return EnvsCommand.Create(services);
        yield return PretrainCommand.Create(services);
        yield return RecordCommand.CreateDemos(services);
        yield return RecordCommand.Create(services);
        yield return PlayCommand.Create(services);
        yield return EpisodeLogCommands.Replay(services);
        yield return EpisodeLogCommands.Render(services);
        yield return EpisodeLogCommands.Episodes(services);
        yield return ConfigCommand.Create(services);
    }

    private static bool IsUserError(Exception e) => e is UserError or ConfigurationException or InvalidActionException or UnsupportedActionSpaceException or EnvPluginException
        || e is EpisodeLogFormatException or EpisodeLogEnvironmentException
        || e is FileNotFoundException or DirectoryNotFoundException
        // Unreadable checkpoints, replay buffers and tensor files name the file and the problem.
        || e is InvalidDataException or CheckpointException or RunFormatException
        || e is Distributed.WorkerRefusedException;
}

/// <summary>A mistake the user can fix (bad argument, unreadable input); printed as one line, exit code 2.</summary>
public sealed class UserError(string message) : Exception(message);
