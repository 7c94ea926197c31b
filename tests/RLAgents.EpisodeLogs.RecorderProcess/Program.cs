using RLAgents.Environments;
using RLAgents.EpisodeLogs;

// Usage: RecorderProcess <log path> <pause episode> <pause step>
// Records seeded CartPole episodes (episode i has seed i) with a seeded random policy, printing
// "written i" after episode i is on disk. When episode <pause episode> reaches step <pause step>
// it prints "open i t" and blocks on standard input, so the parent can kill it mid-episode.
// With <pause episode> = -1 it never pauses and runs until killed.
string path = args[0];
int pauseEpisode = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
int pauseStep = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
var env = EnvRegistry.CreateDefault().Make("CartPole-v1");
var recorder = EpisodeRecorder.Create(env, path, out var writer);
var policy = new Rng(1234);
Console.Out.Flush();
for (int e = 0; ; e++)
{
    recorder.Reset(e);
    for (int t = 0; ; t++)
    {
        if (e == pauseEpisode && t == pauseStep)
        {
            Console.WriteLine($"open {e} {t}");
            Console.Out.Flush();
            Console.In.ReadLine();
        }
        recorder.AttachAgentOutput([0.5f, 0.5f], value: t);
        if (recorder.Step(policy.NextInt(2)).Done) break;
    }
    Console.WriteLine($"written {e}");
    Console.Out.Flush();
}
