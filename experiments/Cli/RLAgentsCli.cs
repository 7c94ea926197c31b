using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RLAgents.Agents.Training;
using RLAgents.Core;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.EpisodeLogs;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Pretrained;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// Entry point of the <c>rlagents</c> command, callable in-process (the end-to-end tests do).
/// Exit codes: 0 success; 1 a replay diverged, a log is damaged or an env failed its checks; 2 a user
/// mistake (bad config or arguments, an unreadable or damaged input file, an output that would overwrite
/// an input); 3 training stopped on an environment fault or a non-finite value (the run keeps its last
/// good checkpoint); 130 a run interrupted by Ctrl+C after it checkpointed. Codes 2 and 3 print one
/// line, <c>error: …</c>, and no stack trace; anything else is a bug and keeps its stack trace.
/// </summary>
public static class RLAgentsCli
{
    /// <summary>Exit code for success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code for a user mistake (bad config, bad arguments, bad input file).</summary>
    public const int UsageError = 2;

    /// <summary>Exit code of a run stopped by an environment fault or a non-finite loss, gradient, reward or observation.</summary>
    public const int Fault = 3;

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
            await error.WriteLineAsync($"error: {string.Join("; ", parse.Errors.Select(e => OneLine(e.Message)))} (rlagents --help lists the verbs and options)");
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
        catch (Exception e) when (e is TrainingFaultException or EnvFaultException)
        {
            await error.WriteLineAsync($"error: {OneLine(e.Message)}");
            return Fault;
        }
        catch (Exception e) when (IsUserError(e))
        {
            await error.WriteLineAsync($"error: {OneLine(e.Message)}");
            return UsageError;
        }
    }

    /// <summary>A message as one line (messages from plug-ins and the runtime may span several).</summary>
    internal static string OneLine(string message) =>
        string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

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
        yield return CurveCommands.Plot(services);
        yield return CurveCommands.Compare(services);
        yield return ConfigCommand.Create(services);
        yield return ExportCommand.Create(services);
        yield return ServeCommand.Create(services);
    }

    private static bool IsUserError(Exception e) => e is UserError or InputException or ConfigurationException or InvalidActionException or UnsupportedActionSpaceException or EnvPluginException
        || e is EpisodeLogFormatException or EpisodeLogEnvironmentException
        // Files and folders the user named: missing, unreadable, not writable, in the way.
        || e is IOException or UnauthorizedAccessException
        // Unreadable checkpoints, replay buffers and tensor files name the file and the problem.
        || e is InvalidDataException or CheckpointException or RunFormatException
        // A pretrained model's package or resource that is missing names the model, the places looked in and the package.
        || e is PretrainedModelException
        // A worker whose config or code version differs from the learner's run names the first difference.
        || e is Distributed.WorkerRefusedException;
}

/// <summary>A mistake the user can fix (bad argument, unreadable input); printed as one line, exit code 2.</summary>
public sealed class UserError(string message) : Exception(message);
