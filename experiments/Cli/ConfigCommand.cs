using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Agents.Training;
using RLAgents.LanguageModel.Training;

namespace RLAgents.Experiments.Cli;

/// <summary><c>rlagents config [experiment|pretrain]</c>: the configuration reference, as Markdown.</summary>
internal static class ConfigCommand
{
    public static Command Create(IServiceProvider services)
    {
        var kind = new Argument<string>("kind") { Description = "experiment (for run) or pretrain.", DefaultValueFactory = _ => "experiment" };
        var command = new Command("config", "Print every configuration key with its type, default, range and meaning (Markdown).") { kind };
        command.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string text = parse.GetValue(kind) switch
            {
                "experiment" => ConfigReference.Render(typeof(ExperimentOptions), "Experiment files (`rlagents run`)"),
                "pretrain" => ConfigReference.Render(typeof(PretrainOptions), "Pretraining files (`rlagents pretrain`)"),
                var other => throw new UserError($"config: unknown kind '{other}' (experiment or pretrain)"),
            };
            console.Out.Write(text);
            return RLAgentsCli.Ok;
        });
        return command;
    }
}
