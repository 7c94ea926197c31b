using RLAgents.Experiments.Cli;

namespace RLAgents.Experiments.Tests;

/// <summary>Runs <c>rlagents</c> in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static Result Run(params string[] args) => Run(CancellationToken.None, args);

    /// <summary>Runs with <paramref name="cancellation"/> standing in for Ctrl+C.</summary>
    public static Result Run(CancellationToken cancellation, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = RLAgentsCli.RunAsync(args, output, error, cancellation).GetAwaiter().GetResult();
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>The repository root (holds RLAgents.sln), found upward from the test output.</summary>
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RLAgents.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("RLAgents.sln not found above the test output.");
        }
    }
}
