using System.CommandLine;

namespace RLAgents.Experiments.Cli;

/// <summary><c>rlagents run &lt;experiment.json&gt; [--set path=value]... [--output DIR]</c>.</summary>
internal static class RunCommand
{
    public static Command Create(IServiceProvider services)
    {
        _ = services;
        var file = new Argument<string>("experiment") { Description = "Experiment file (JSON), e.g. experiments/configs/cartpole-ppo.json." };
        var set = new Option<string[]>("--set") { Description = "Override a key: --set algorithm.ppo.learningRate=0.001 (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string?>("--output") { Description = "Parent folder of the run directory (default: runs/)." };
        var run = new Command("run", "Run an experiment file.") { file, set, output };
        run.SetAction(new Func<ParseResult, int>(_ => throw new UserError("run: no trainer is wired yet")));
        return run;
    }
}
