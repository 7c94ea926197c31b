using System.Text;

namespace RLAgents.Environments.Checking;

/// <summary>Result of one named check.</summary>
public enum CheckOutcome
{
    /// <summary>The check ran and the environment behaved as the contract requires.</summary>
    Passed,
    /// <summary>The environment broke the contract; the message says how.</summary>
    Failed,
    /// <summary>The check could not be exercised (e.g. no episode ended within the step budget).</summary>
    NotExercised,
}

/// <summary>One named check of <see cref="EnvChecker"/>.</summary>
/// <param name="Name">Stable name, e.g. <c>determinism</c>.</param>
/// <param name="Outcome">Passed, failed or not exercised.</param>
/// <param name="Message">What was checked, or what went wrong (step, modality, values).</param>
public sealed record EnvCheck(string Name, CheckOutcome Outcome, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Outcome switch { CheckOutcome.Passed => "PASS", CheckOutcome.Failed => "FAIL", _ => "SKIP" },-4} {Name}: {Message}";
}

/// <summary>The checks run on one environment; <see cref="Passed"/> when none failed.</summary>
public sealed class EnvCheckReport
{
    internal EnvCheckReport(string subject, IReadOnlyList<EnvCheck> checks)
    {
        Subject = subject;
        Checks = checks;
    }

    /// <summary>What was checked (the env id, or the factory's failure).</summary>
    public string Subject { get; }

    /// <summary>Every check in the order run.</summary>
    public IReadOnlyList<EnvCheck> Checks { get; }

    /// <summary>True when no check failed.</summary>
    public bool Passed => Checks.All(c => c.Outcome != CheckOutcome.Failed);

    /// <summary>The failed checks.</summary>
    public IEnumerable<EnvCheck> Failures => Checks.Where(c => c.Outcome == CheckOutcome.Failed);

    /// <summary>The check named <paramref name="name"/>.</summary>
    public EnvCheck this[string name] => Checks.FirstOrDefault(c => c.Name == name)
        ?? throw new KeyNotFoundException($"No check named '{name}'; checks: {string.Join(", ", Checks.Select(c => c.Name))}.");

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{Subject}: {(Passed ? "passed" : "FAILED")} ({Checks.Count(c => c.Outcome == CheckOutcome.Passed)} passed, {Failures.Count()} failed, {Checks.Count(c => c.Outcome == CheckOutcome.NotExercised)} not exercised)");
        foreach (var c in Checks) sb.AppendLine("  " + c);
        return sb.ToString();
    }
}
