using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents record --env &lt;id&gt; --policy random|expert --episodes N --out &lt;log&gt;</c> plays episodes with
/// a random policy or the environment's expert and writes them to an episode log, and
/// <c>rlagents demos generate</c> does the same keeping only the expert's successful episodes: the
/// demonstrations a supervised phase reads. (Training runs record through their experiment's
/// <c>recording</c> section.)
/// </summary>
internal static class RecordCommand
{
    /// <summary>What <see cref="Play"/> did.</summary>
    private sealed record Played(int Episodes, int Written, double MeanReturn, double MeanLength, double Seconds);

    public static Command Create(IServiceProvider services)
    {
        var env = new Option<string>("--env") { Description = "A registered id or a plug-in path.dll:Namespace.Type.", Required = true };
        var policy = new Option<string>("--policy") { Description = "random, or expert (the environment's expert, e.g. the BabyAI bot).", DefaultValueFactory = _ => "random" };
        var episodes = new Option<int>("--episodes") { Description = "Number of episodes.", DefaultValueFactory = _ => 10 };
        var seed = new Option<long>("--seed") { Description = "Episode seeds and random actions derive from it.", DefaultValueFactory = _ => 0 };
        var hashes = new Option<bool>("--hashes") { Description = "Store 64-bit observation hashes instead of observations." };
        var output = new Option<string>("--out") { Description = "Episode log to write (an Arrow IPC stream, conventionally named .arrows).", Required = true };
        var command = new Command("record", "Play episodes with a random policy or the environment's expert and record them to an episode log.") { env, policy, episodes, seed, hashes, output };
        command.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string kind = parse.GetValue(policy)!;
            if (kind is not ("random" or "expert")) throw new UserError($"--policy must be random or expert, not '{kind}'");
            var options = new EpisodeRecorderOptions { ObservationHashes = parse.GetValue(hashes) };
            var played = Play(services, parse.GetValue(env)!, kind == "expert", parse.GetValue(episodes), parse.GetValue(seed), parse.GetValue(output)!, options);
            console.Out.WriteLine(FormattableString.Invariant($"recorded {played.Written} episodes ({kind} policy, mean return {played.MeanReturn:F3}) to {parse.GetValue(output)}"));
            return RLAgentsCli.Ok;
        });
        return command;
    }

    public static Command CreateDemos(IServiceProvider services)
    {
        var env = new Option<string>("--env") { Description = "An environment with an expert: a BabyAI level id such as BabyAI-GoToLocal-v0, or a plug-in.", Required = true };
        var episodes = new Option<int>("--episodes") { Description = "Number of successful demonstrations to write.", DefaultValueFactory = _ => 100 };
        var output = new Option<string>("--out") { Description = "Episode log to write (an Arrow IPC stream, conventionally named .arrows); an SFT phase reads it as sft.demonstrationsFile.", Required = true };
        var seed = new Option<long>("--seed") { Description = "Episode seeds derive from it.", DefaultValueFactory = _ => 0 };
        var generate = new Command("generate", "Record successful expert episodes as demonstrations for supervised fine-tuning.") { env, episodes, output, seed };
        generate.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            var options = new EpisodeRecorderOptions { Mode = RecordMode.Filter, FilterSuccessOnly = true };
            var played = Play(services, parse.GetValue(env)!, expert: true, parse.GetValue(episodes), parse.GetValue(seed), parse.GetValue(output)!, options, untilWritten: true);
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{parse.GetValue(env)}: wrote {played.Written} of {played.Episodes} episodes (mean length {played.MeanLength:F2}) to {parse.GetValue(output)} in {played.Seconds:F1} s"));
            return RLAgentsCli.Ok;
        });
        var demos = new Command("demos", "Expert demonstrations.");
        demos.Subcommands.Add(generate);
        return demos;
    }

    /// <summary>
    /// Plays <paramref name="count"/> episodes (or, with <paramref name="untilWritten"/>, until that many were
    /// written) through an episode recorder; episode e is seeded <c>DeriveSeed(seed, "record-episode", e)</c>.
    /// </summary>
    private static Played Play(IServiceProvider services, string envSpec, bool expert, int count, long seed, string output, EpisodeRecorderOptions options, bool untilWritten = false)
    {
        if (count <= 0) throw new UserError($"--episodes must be positive, got {count}");
        var registry = services.GetRequiredService<EnvRegistry>();
        var registration = EnvsCommand.ResolveEnv(registry, envSpec);
        string? plugin = EnvRegistry.IsPluginSpec(envSpec) ? envSpec : null;
        var inner = registry.Make(registration.Id.ToString());
        if (expert && inner.Find<IExpertEnv>() is null)
        {
            inner.Dispose();
            throw new UserError($"{registration.Id} has no expert policy (it does not implement {nameof(IExpertEnv)}); use --policy random");
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var recorder = EpisodeRecorder.Create(inner, output, out var writer, options, plugin: plugin);
        using (writer)
        using (recorder)
        {
            recorder.Phase = expert ? "expert" : "random";
            var random = new Rng(Rng.DeriveSeed(unchecked((ulong)seed), "record-actions"));
            var progress = new ProgressLine(services.GetRequiredService<CliConsole>().Out);
            string stage = untilWritten ? $"{registration.Id} demonstrations" : $"{registration.Id} {recorder.Phase} episodes";
            var expertPolicy = expert ? Experts.For(recorder) : null;
            var randomAction = new ActionBatch(recorder.ActionSpace, 1); // uniform over any action space
            double total = 0, steps = 0;
            int played = 0;
            while (untilWritten ? writer.EpisodesWritten < count : played < count)
            {
                if (untilWritten && played > 2 * count + 100)
                    throw new UserError($"{registration.Id}: the expert succeeded on only {writer.EpisodesWritten} of {played} episodes");
                long episodeSeed = unchecked((long)Rng.DeriveSeed(unchecked((ulong)seed), "record-episode", played++));
                if (expertPolicy is not null)
                {
                    // An expert that fails mid-episode abandons it; the recorder never writes unfinished episodes.
                    if (Experts.Play(recorder, expertPolicy, episodeSeed) is { } e) { total += e.Rewards.Sum(); steps += e.Length; }
                }
                else
                {
                    recorder.Reset(episodeSeed);
                    StepResult step;
                    do
                    {
                        randomAction.Sample(random);
                        step = recorder.Step(randomAction[0]);
                        total += step.Reward;
                        steps++;
                    } while (!step.Done);
                }
                progress.Report(stage, untilWritten ? writer.EpisodesWritten : played, count, untilWritten ? "written" : "episodes",
                    FormattableString.Invariant($"mean return {total / played:F3}"));
            }
            progress.Finish();
            return new Played(played, (int)writer.EpisodesWritten, total / played, steps / played, clock.Elapsed.TotalSeconds);
        }
    }
}
