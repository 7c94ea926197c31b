using System.Diagnostics;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Environments.GridWorld.Bot;

/// <summary>Success rate and episode lengths of the bot on one level.</summary>
/// <param name="EnvId">Level id.</param>
/// <param name="Episodes">Episodes run.</param>
/// <param name="Successes">Episodes ending with the mission accomplished.</param>
/// <param name="MeanLength">Mean steps per successful episode.</param>
/// <param name="MeanReturn">Mean return over all episodes.</param>
/// <param name="Seconds">Wall-clock time.</param>
public readonly record struct BotStatistics(string EnvId, int Episodes, int Successes, double MeanLength, double MeanReturn, double Seconds)
{
    /// <summary>Fraction of successful episodes.</summary>
    public double SuccessRate => Episodes == 0 ? 0 : (double)Successes / Episodes;
}

/// <summary>Runs the bot on a level over many seeds.</summary>
public static class BotEvaluation
{
    /// <summary>
    /// Plays <paramref name="episodes"/> episodes of level <paramref name="envId"/>; episode i is
    /// reset with seed <c>Rng.DeriveSeed(seed, "bot-eval", i)</c>. A bot failure counts as a failed episode.
    /// </summary>
    public static BotStatistics Run(string envId, int episodes, long seed)
    {
        var sw = Stopwatch.StartNew();
        using var env = BabyAILevels.Make(envId, new GridWorldOptions { IncludeDescription = false });
        int successes = 0;
        long steps = 0;
        double returns = 0;
        for (int i = 0; i < episodes; i++)
        {
            env.Reset((long)Rng.DeriveSeed((ulong)seed, "bot-eval", i));
            var bot = new BabyAIBot(env);
            int length = 0;
            double ret = 0;
            bool success = false;
            try
            {
                while (true)
                {
                    var r = env.Step(bot.Act());
                    length++;
                    ret += r.Reward;
                    if (r.Done)
                    {
                        success = r.Info.IsSuccess == true;
                        break;
                    }
                }
            }
            catch (BotFailedException)
            {
                success = false;
            }
            returns += ret;
            if (success)
            {
                successes++;
                steps += length;
            }
        }
        return new BotStatistics(envId, episodes, successes, successes == 0 ? 0 : (double)steps / successes, returns / Math.Max(1, episodes), sw.Elapsed.TotalSeconds);
    }
}
