using System.Globalization;
using System.Text.RegularExpressions;

namespace RLAgents.LanguageModel.Checkpoints;

/// <summary>
/// Checkpoint folders <c>step-000123</c> under a root. Each is written complete into a hidden
/// temporary folder and then renamed into place, so a crash never leaves a half-written
/// checkpoint under a real name; the newest complete folder is the one to resume from.
/// </summary>
public static partial class CheckpointStore
{
    [GeneratedRegex(@"^step-(\d+)$")]
    private static partial Regex StepFolder();

    /// <summary>Writes a checkpoint for <paramref name="step"/> through <paramref name="writeFiles"/> (given the folder to fill), keeps the newest <paramref name="keep"/>, returns its path.</summary>
    public static string Write(string root, long step, Action<string> writeFiles, int keep)
    {
        Directory.CreateDirectory(root);
        string final = Path.Combine(root, $"step-{step:D6}");
        string temp = Path.Combine(root, $".tmp-step-{step:D6}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            writeFiles(temp);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(temp, final);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        foreach (var (_, old) in List(root).SkipLast(keep)) Directory.Delete(old, recursive: true);
        return final;
    }

    /// <summary>Complete checkpoints under <paramref name="root"/>, oldest first.</summary>
    public static IReadOnlyList<(long Step, string Path)> List(string root)
    {
        if (!Directory.Exists(root)) return [];
        return Directory.GetDirectories(root)
            .Select(d => (Match: StepFolder().Match(Path.GetFileName(d)), Path: d))
            .Where(x => x.Match.Success)
            .Select(x => (long.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture), x.Path))
            .OrderBy(x => x.Item1)
            .ToList();
    }

    /// <summary>The newest complete checkpoint, or null.</summary>
    public static (long Step, string Path)? Latest(string root)
    {
        var all = List(root);
        return all.Count == 0 ? null : all[^1];
    }
}
