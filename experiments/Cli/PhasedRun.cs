using RLAgents.Agents.Phases;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents run</c> for phased experiments (files with a <c>phases</c> list, e.g.
/// experiments/configs/babyai-*.json): RL and SFT phases on one agent via <see cref="PhaseRunner"/>.
/// </summary>
internal static class PhasedRun
{
    /// <summary>True when the file (or the resumed run's stored config) is a phased experiment.</summary>
    public static bool Handles(string? path, string? resumeDirectory)
    {
        string? file = resumeDirectory is not null ? Path.Combine(resumeDirectory, "config.json") : path;
        return file is not null && File.Exists(file) && PhaseRunner.IsPhasedExperiment(file);
    }

    /// <summary>Trains (or resumes) the phased experiment and prints one line per phase and a summary.</summary>
    public static int Run(TextWriter output, string? path, string[] overrides, string parent, string? resumeDirectory, CancellationToken cancellation = default)
    {
        if (resumeDirectory is not null && (path is not null || overrides.Length > 0))
            throw new UserError("--resume continues a run with its own stored configuration; pass no experiment file or --set with it.");
        var options = PhaseRunner.Load(resumeDirectory is not null ? Path.Combine(resumeDirectory, "config.json") : path!, resumeDirectory is null ? overrides : null);
        string runDirectory = resumeDirectory ?? Path.Combine(parent, $"{options.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        output.WriteLine($"{(resumeDirectory is null ? "run" : "resume")} {options.Name}: {options.Env.Id}, {options.Schedule.Count} phases, seed {options.Seed} → {runDirectory}");
        var result = PhaseRunner.Run(options, runDirectory, resume: resumeDirectory is not null, progress: output.WriteLine, cancellation: cancellation);
        output.WriteLine(FormattableString.Invariant(
            $"{(result.Interrupted ? "interrupted" : "done")}: success {result.SuccessRate:F3} after {result.EnvEpisodes} env episodes + {result.Demonstrations} demonstrations ({result.EnvSteps} env steps) in {result.Seconds:F0} s"));
        if (!result.Interrupted) return RLAgentsCli.Ok;
        output.WriteLine($"continue with: rlagents run --resume {runDirectory}");
        return RLAgentsCli.Interrupted;
    }
}
