using System.Diagnostics;
using RLAgents.Environments.GridWorld.Bot;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Environments.GridWorld.Demonstrations;

/// <summary>What a generation run produced.</summary>
/// <param name="EnvId">Level id.</param>
/// <param name="Written">Successful episodes written.</param>
/// <param name="Attempted">Episodes played (failures are not written).</param>
/// <param name="MeanLength">Mean length of the written episodes.</param>
/// <param name="Seconds">Wall-clock time.</param>
public readonly record struct DemoGenerationSummary(string EnvId, int Written, int Attempted, double MeanLength, double Seconds);

/// <summary>Plays the expert bot on a BabyAI level and writes its successful episodes as demonstrations.</summary>
public static class DemoGenerator
{
    /// <summary>
    /// Writes <paramref name="episodes"/> successful bot episodes of <paramref name="envId"/> to
    /// <paramref name="outPath"/> (JSON Lines, see <see cref="DemonstrationFormat"/>), atomically:
    /// the file appears complete or not at all. Attempt i resets with seed
    /// <c>Rng.DeriveSeed(seed, "demos", i)</c>; failed attempts (rare) are skipped.
    /// </summary>
    /// <param name="envId">A registered BabyAI level id, e.g. <c>BabyAI-GoToLocal-v0</c>.</param>
    /// <param name="episodes">Number of demonstrations to write (at least 1).</param>
    /// <param name="seed">Run seed.</param>
    /// <param name="outPath">Output file.</param>
    /// <param name="includeDescriptions">Also record the text description of every view.</param>
    public static DemoGenerationSummary Generate(string envId, int episodes, long seed, string outPath, bool includeDescriptions = false)
    {
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "Generate at least one episode.");
        var sw = Stopwatch.StartNew();
        using var env = BabyAILevels.Make(envId, new GridWorldOptions { IncludeDescription = includeDescriptions });
        string full = Path.GetFullPath(outPath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp";
        int attempted = 0;
        long steps = 0;
        int maxAttempts = episodes * 2 + 100;
        using (var writer = DemonstrationWriter.Create(temp))
        {
            while (writer.Count < episodes)
            {
                if (attempted >= maxAttempts)
                    throw new InvalidOperationException($"{envId}: the bot succeeded on only {writer.Count} of {attempted} episodes.");
                long episodeSeed = (long)Rng.DeriveSeed((ulong)seed, "demos", attempted++);
                var demo = Play(env, envId, episodeSeed, includeDescriptions);
                if (demo is null) continue;
                writer.Write(demo);
                steps += demo.Length;
            }
        }
        File.Move(temp, full, overwrite: true);
        return new DemoGenerationSummary(envId, episodes, attempted, (double)steps / episodes, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Plays one bot episode; null when the bot fails.</summary>
    public static Demonstration? Play(GridWorldEnv env, string envId, long seed, bool includeDescriptions)
    {
        var obs = env.Reset(seed).Observation;
        var bot = new BabyAIBot(env);
        var actions = new List<int>();
        var images = new List<byte[]>();
        var directions = new List<int>();
        var rewards = new List<double>();
        var descriptions = includeDescriptions ? new List<string>() : null;
        int image = obs.Space.IndexOf("image"), direction = obs.Space.IndexOf("direction");
        int description = includeDescriptions ? obs.Space.IndexOf("description") : -1;
        try
        {
            while (true)
            {
                images.Add(obs.Bytes(image).ToArray());
                directions.Add(obs.GetInt(direction));
                descriptions?.Add(obs.GetText(description));
                int a = bot.Act();
                var r = env.Step(a);
                actions.Add(a);
                rewards.Add(r.Reward);
                obs = r.Observation;
                if (r.Done)
                {
                    if (r.Info.IsSuccess != true) return null;
                    break;
                }
            }
        }
        catch (BotFailedException)
        {
            return null;
        }
        return new Demonstration
        {
            EnvId = envId,
            Seed = seed,
            Mission = env.Mission,
            Actions = [.. actions],
            Images = [.. images],
            Directions = [.. directions],
            Rewards = [.. rewards],
            Descriptions = descriptions?.ToArray(),
            Success = true,
        };
    }
}
