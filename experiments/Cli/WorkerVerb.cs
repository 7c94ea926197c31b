using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RLAgents.Agents.Training;
using RLAgents.Distributed;
using RLAgents.Environments.Configuration;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents worker --learner HOST:PORT [--id K] [--config experiment.json [--set k=v]...]</c>: a rollout worker that
/// joins a distributed run's learner (from this or another machine), steps its share of the envs and sends batches until
/// the run ends. Refused with one line (exit 2) when its config or code version differs from the learner's.
/// </summary>
internal static class WorkerVerb
{
    public static Command Create(IServiceProvider services)
    {
        var learner = new Option<string>("--learner") { Description = "The learner's gateway, HOST:PORT (its distributed.host and distributed.gatewayPort).", Required = true };
        var id = new Option<int?>("--id") { Description = "Worker id to ask for; a restarted worker passes its old id to continue its seed shard." };
        var config = new Option<string?>("--config") { Description = "This worker's experiment file: the learner refuses the worker when it differs from the run's." };
        var set = new Option<string[]>("--set") { Description = "Override a key of --config (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var exitWith = new Option<int?>("--exit-with") { Description = "Exit when this process id ends (set by the learner for its local workers)." };
        var timeout = new Option<double>("--response-timeout") { Description = "Seconds a call to the learner may take before the worker reconnects.", DefaultValueFactory = _ => 15 };
        var command = new Command("worker", "Join a distributed training run as a rollout worker.") { learner, id, config, set, exitWith, timeout };
        command.SetAction((parse, cancellation) => ExecuteAsync(parse, cancellation));
        return command;

        async Task<int> ExecuteAsync(ParseResult parse, CancellationToken cancellation)
        {
            var console = services.GetRequiredService<CliConsole>();
            string endpoint = parse.GetValue(learner)!;
            DistributedHosting.ParseEndpoint(endpoint);
            string? configJson = null;
            if (parse.GetValue(config) is { } file)
                configJson = OptionsBinder.Serialize(TrainingRunner.Load(file, parse.GetValue(set) ?? []));
            double seconds = parse.GetValue(timeout);
            if (seconds is not (> 0 and <= 3600)) throw new UserError($"--response-timeout must be in (0, 3600] seconds, got {seconds}");
            var settings = new WorkerSettings
            {
                ResponseTimeout = TimeSpan.FromSeconds(seconds),
                Learner = endpoint, WorkerId = parse.GetValue(id), ConfigJson = configJson, ExitWithProcess = parse.GetValue(exitWith), Log = console.Out,
            };
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(settings);
            builder.Services.AddSingleton<RolloutWorkerService>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<RolloutWorkerService>());
            using var host = builder.Build();
            // RunAsync disposes the host: the service is taken first.
            var service = host.Services.GetRequiredService<RolloutWorkerService>();
            await host.RunAsync(cancellation);
            if (service.Refusal is { } refusal) throw new UserError(refusal);
            return RLAgentsCli.Ok;
        }
    }

    /// <summary>How this program starts its own <c>worker</c> verb in a child process.</summary>
    public static WorkerCommand Self()
    {
        string dll = typeof(WorkerVerb).Assembly.Location;
        string apphost = Path.Combine(Path.GetDirectoryName(dll)!, "rlagents");
        if (!OperatingSystem.IsWindows() && File.Exists(apphost)) return new WorkerCommand(apphost, []);
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        return new WorkerCommand(dotnet, [dll]);
    }
}
