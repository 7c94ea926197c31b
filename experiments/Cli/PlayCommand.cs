using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;
using RLAgents.EpisodeLogs.Rendering;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents play &lt;env id or plug-in&gt; --out &lt;log&gt;</c>: a person plays the environment in the terminal
/// (its picture, the observation's text and the keys on screen, one key press per action), and every
/// finished episode goes to an episode log (phase <c>human</c>), which <c>rlagents episodes to-sft</c> turns
/// into demonstrations for a supervised phase.
/// </summary>
internal static class PlayCommand
{
    public static Command Create(IServiceProvider services)
    {
        var env = new Argument<string>("env") { Description = "A registered id (e.g. BabyAI-GoToLocal-v0) or a plug-in path.dll:Namespace.Type." };
        var output = new Option<string>("--out") { Description = "Episode log to write the finished episodes to (Arrow IPC stream).", Required = true };
        var episodes = new Option<int>("--episodes") { Description = "Episodes to play.", DefaultValueFactory = _ => 5 };
        var seed = new Option<long>("--seed") { Description = "Episode seeds derive from it.", DefaultValueFactory = _ => 0 };
        var view = new Option<string>("--view") { Description = "auto (text picture where the env has one), text, or frame (its RGB picture in coloured blocks).", DefaultValueFactory = _ => "auto" };
        var command = new Command("play", "Play an environment yourself in the terminal and record the episodes as demonstrations.") { env, output, episodes, seed, view };
        command.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            int count = parse.GetValue(episodes);
            if (count <= 0) throw new UserError($"--episodes must be positive, got {count}");
            var playView = parse.GetValue(view) switch
            {
                "auto" => PlayView.Auto,
                "text" => PlayView.Text,
                "frame" => PlayView.Frame,
                var other => throw new UserError($"--view must be auto, text or frame, not '{other}'"),
            };
            if (Console.IsInputRedirected) throw new UserError("play needs an interactive terminal (its input is redirected); record scripted episodes with `rlagents record` instead.");
            string spec = parse.GetValue(env)!;
            string path = parse.GetValue(output)!;
            var registry = services.GetRequiredService<EnvRegistry>();
            var registration = EnvsCommand.ResolveEnv(registry, spec);
            var inner = registry.Make(registration.Id.ToString());
            var recorder = EpisodeRecorder.Create(inner, path, out var writer, plugin: EnvRegistry.IsPluginSpec(spec) ? spec : null);
            PlaySession session;
            using (writer)
            using (recorder)
            {
                recorder.Phase = "human";
                HumanPlayer player;
                try
                {
                    player = new HumanPlayer(recorder, playView);
                }
                catch (NotSupportedException e)
                {
                    throw new UserError(e.Message);
                }
                session = player.Play(count, parse.GetValue(seed), () => Console.ReadKey(intercept: true), console.Out, clearScreen: true);
            }
            console.Out.WriteLine(FormattableString.Invariant(
                $"recorded {session.Episodes} episodes ({session.Successes} successful, {session.Steps} steps) to {path}{(session.Quit ? "; quit before the end, the unfinished episode is not recorded" : "")}"));
            console.Out.WriteLine($"make demonstrations of them with: rlagents episodes to-sft {path} --filter success --out demos.arrows");
            return RLAgentsCli.Ok;
        });
        return command;
    }
}
