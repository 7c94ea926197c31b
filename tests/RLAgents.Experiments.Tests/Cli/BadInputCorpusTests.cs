using System.Security.Cryptography;
using System.Text;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary>
/// A finished tiny run (PPO on CartPole, recorded, with checkpoints) that every corpus case gets its own copy of.
/// Built once per test class through the command line, as a user would.
/// </summary>
public sealed class CorpusRunFixture
{
    public CorpusRunFixture()
    {
        string output = TempDirectory.ForProcess.NewDirectory();
        var r = CliRunner.Run(["run", BadInputCorpusTests.Config, "--output", output, .. BadInputCorpusTests.TinyRun, "--set", "recording={}"]);
        if (r.ExitCode != 0) throw new InvalidOperationException($"the corpus run failed: {r.Error}");
        Run = Directory.GetDirectories(output).Single();
    }

    /// <summary>The finished run directory (never modified: cases work on copies).</summary>
    public string Run { get; }
}

/// <summary>
/// The bad-input corpus: user mistakes and environment faults as one would make them at the command line
/// (configs, arguments, plug-ins, output paths, resumes, checkpoints, logs). Every one must give exit code 2
/// (a mistake), 3 (a fault that stopped training) or 1 (a damaged log read as far as it goes), one line on the
/// error stream naming what is wrong, no stack trace, its inputs byte for byte as they were, and no run
/// directory left without a metrics row or a checkpoint.
/// </summary>
public sealed class BadInputCorpusTests(CorpusRunFixture fixture) : IClassFixture<CorpusRunFixture>
{
    internal static readonly string Config = Path.Combine(CliRunner.RepoRoot, "experiments", "configs", "cartpole-ppo.json");
    private static readonly string Plugin = Path.Combine(AppContext.BaseDirectory, "RLAgents.TestPlugin.dll");

    internal static readonly string[] TinyRun =
    [
        "--set", "env.numEnvs=4", "--set", "env.vectorization=sync", "--set", "algorithm.ppo.rolloutSteps=16", "--set", "algorithm.ppo.epochs=2",
        "--set", "algorithm.ppo.minibatches=2", "--set", "training.totalSteps=512", "--set", "training.logInterval=128",
        "--set", "training.evalInterval=256", "--set", "training.evalEpisodes=2", "--set", "training.checkpointInterval=256",
    ];

    // A plug-in fault shows after 100 steps of each env: before any metrics row or checkpoint, so the run leaves nothing.
    private static readonly string[] FaultRun =
    [
        "--set", "env.numEnvs=2", "--set", "algorithm.ppo.rolloutSteps=16", "--set", "algorithm.ppo.epochs=1", "--set", "training.totalSteps=4096",
        "--set", "training.logInterval=100000", "--set", "training.evalInterval=0", "--set", "training.evalEpisodes=1", "--set", "training.checkpointInterval=0",
    ];

    /// <summary>One mistake: the command (with placeholders), the exit code, a text its one error line must hold, and what to break first.</summary>
    private sealed record Mistake(string[] Args, int Exit, string Expect, Action<Case>? Prepare = null);

    /// <summary>A case's own files: a copy of the run, its log, a text file, an empty output folder.</summary>
    private sealed class Case(string dir, string run)
    {
        public string Dir { get; } = dir;
        public string Run { get; } = run;
        public string Log => Path.Combine(Dir, "log.arrows");
        public string Text => Path.Combine(Dir, "notes.txt");
        public string Out => Path.Combine(Dir, "out");
        public string Checkpoints => Path.Combine(Run, "checkpoints");
        public string Latest => Directory.GetFiles(Checkpoints, "*.safetensors").Max()!;
        public string LatestState => Path.ChangeExtension(Latest, ".json");

        public void Flip(string file, long at)
        {
            var bytes = File.ReadAllBytes(file);
            bytes[at < 0 ? bytes.Length + at : at] ^= 0x20;
            File.WriteAllBytes(file, bytes);
        }

        public void Truncate(string file, double keep) => File.WriteAllBytes(file, File.ReadAllBytes(file)[..(int)(new FileInfo(file).Length * keep)]);
    }

    private static string[] Faulty(string options) => ["run", Config, "--output", "{out}", "--set", $"env.plugin={Plugin}:RLAgents.TestPlugin.Faulty", "--set", $"env.options={options}", .. FaultRun];

    private static string[] Set(params string[] assignments) => ["run", Config, "--output", "{out}", .. assignments.SelectMany(a => new[] { "--set", a })];

    /// <summary>A schedule experiment (written into the case's folder) with these phases, and more keys.</summary>
    private static Mistake Schedule(string phases, string expect, string extra = "") => new(["run", "{dir}/schedule.json", "--output", "{out}"], 2, expect,
        c => File.WriteAllText(Path.Combine(c.Dir, "schedule.json"), $$"""{ "name": "schedule", "env": { "id": "CartPole-v1", "numEnvs": 2 }, "phases": {{phases}} {{extra}} }"""));

    private static readonly Dictionary<string, Mistake> Corpus = new()
    {
        // ---- configuration: keys, types, ranges, rules across keys ----
        ["env id of another version"] = new(Set("env.id=CartPole-v2"), 2, "env.id: No environment 'CartPole-v2'"),
        ["unknown env id"] = new(Set("env.id=Nope-v1"), 2, "env.id"),
        ["empty env id"] = new(Set("env.id="), 2, "env.id"),
        ["misspelt key"] = new(Set("training.totalStep=5"), 2, "did you mean 'totalSteps'"),
        ["unknown top-level key"] = new(Set("trainign={}"), 2, "trainign"),
        ["zero envs"] = new(Set("env.numEnvs=0"), 2, "env.numEnvs: 0 is out of range"),
        ["too many envs"] = new(Set("env.numEnvs=5000"), 2, "env.numEnvs"),
        ["seed as a string"] = new(Set("seed=\"abc\""), 2, "seed: expected a number"),
        ["negative seed"] = new(Set("seed=-1"), 2, "seed"),
        ["unknown algorithm"] = new(Set("algorithm.kind=sarsa"), 2, "algorithm.kind: 'sarsa' is not one of"),
        ["learning rate out of range"] = new(Set("algorithm.ppo.learningRate=5"), 2, "algorithm.ppo.learningRate"),
        ["gamma above one"] = new(Set("algorithm.ppo.gamma=1.5"), 2, "algorithm.ppo.gamma"),
        ["more minibatches than steps"] = new(Set("algorithm.ppo.minibatches=100000"), 2, "algorithm.ppo.minibatches"),
        ["zero evaluation episodes"] = new(Set("training.evalEpisodes=0"), 2, "training.evalEpisodes"),
        ["zero threads"] = new(Set("training.threads=0"), 2, "training.threads"),
        ["success rate above one"] = new(Set("training.stopAtSuccessRate=1.5"), 2, "training.stopAtSuccessRate"),
        ["distributed with observation normalisation"] = new(Set("env.vectorization=sync", "distributed={\"workers\":2}", "env.normalizeObservation={}"), 2, "env.normalizeObservation: distributed workers"),
        ["unknown exploration noise process"] = new(Set("algorithm.kind=td3", "algorithm.td3.noiseProcess=pink"), 2, "algorithm.td3.noiseProcess: 'pink' is not one of"),
        ["distributed with Ornstein-Uhlenbeck noise"] = new(Set("env.vectorization=sync", "distributed={\"workers\":2}", "algorithm.kind=td3", "algorithm.td3.noiseProcess=ornsteinUhlenbeck"), 2, "algorithm.td3.noiseProcess: OrnsteinUhlenbeck noise keeps a state per env"),
        ["rescaled actions with an empty range"] = new(Set("env.vectorization=sync", "env.rescaleAction={\"min\":1,\"max\":1}"), 2, "env.rescaleAction"),
        ["non-finite mode unknown"] = new(Set("training.nonFinite=ignore"), 2, "training.nonFinite"),
        ["name that climbs out of --output"] = new(Set("name=../escape"), 2, "name: '../escape' is not a folder name"),
        ["name with a slash"] = new(Set("name=a/b"), 2, "name: 'a/b'"),
        ["name that is .."] = new(Set("name=.."), 2, "name"),
        ["empty name"] = new(Set("name="), 2, "name"),
        ["unknown vectorization"] = new(Set("env.vectorization=gpu"), 2, "env.vectorization"),
        ["zero time limit"] = new(Set("env.maxEpisodeSteps=0"), 2, "env.maxEpisodeSteps"),
        ["unknown env option"] = new(Set("env.options={\"gravity\":1}"), 2, "env.options.gravity"),
        ["env options not an object"] = new(Set("env.options=5"), 2, "env.options: expected an object"),
        ["recording with batched envs"] = new(Set("recording={}", "env.vectorization=batched"), 2, "env.vectorization: recording needs sync or threaded"),
        ["recording evaluations only without evaluations"] = new(Set("recording={\"mode\":\"evaluationOnly\",\"includeEvaluations\":false}", "env.vectorization=sync"), 2, "recording.includeEvaluations"),
        ["recording every 0th episode"] = new(Set("recording={\"mode\":\"everyNth\",\"everyN\":0}", "env.vectorization=sync"), 2, "recording.everyN"),
        ["empty schedule"] = Schedule("[]", "phases"),
        ["RL phase without steps"] = Schedule("""[{"kind":"ppo","steps":0}]""", "phases[0].steps"),
        ["both algorithm and phases"] = Schedule("""[{"kind":"ppo","steps":64}]""", "algorithm: give either algorithm", """, "algorithm": { "kind": "ppo" }"""),
        ["phases with totalSteps"] = Schedule("""[{"kind":"ppo","steps":64}]""", "training.totalSteps", """, "training": { "totalSteps": 64 }"""),
        ["repeat without phases"] = new(Set("repeat=2"), 2, "repeat"),
        ["DQN and PPO in one schedule"] = Schedule("""[{"kind":"dqn","steps":64},{"kind":"ppo","steps":64}]""", "phases[1].kind"),
        ["SFT phase without data"] = Schedule("""[{"kind":"sft"}]""", "phases[0].sft"),
        ["SFT demonstrations file missing"] = Schedule("""[{"kind":"sft","sft":{"demonstrationsFile":"/nonexistent/demos.arrow"}}]""", "demonstrationsFile"),
        ["KL anchor on a Q-network"] = Schedule("""[{"kind":"dqn","steps":64,"klAnchor":0.1}]""", "phases[0].klAnchor"),
        ["schedule repeated zero times"] = Schedule("""[{"kind":"ppo","steps":64}]""", "repeat", """, "repeat": 0"""),
        ["memory of an unknown modality"] = new(Set("env.memory.steps=2", "env.memory.modalities=[\"nope\"]"), 2, "env.memory.modalities[0]: no modality 'nope'"),
        ["unknown policy architecture"] = new(Set("policy.architecture=rnn"), 2, "policy.architecture"),
        ["no hidden layers"] = new(Set("policy.hiddenSizes=[]"), 2, "policy.hiddenSizes"),
        ["negative hidden size"] = new(Set("policy.hiddenSizes=[-4]"), 2, "policy.hiddenSizes"),
        ["--set without ="] = new(Set("noequals"), 2, "--set expects path=value"),
        ["--set without a key"] = new(Set("=5"), 2, "--set expects path=value"),
        ["--set with broken JSON"] = new(Set("training={"), 2, "training"),
        ["DQN learning-rate annealing not a bool"] = Schedule("""[{"kind":"dqn","steps":100,"dqn":{"annealLearningRate":"maybe"}}]""", "phases[0].dqn.annealLearningRate: expected true or false"),
        ["cell-text matching without text to match"] = new(Set("policy.architecture=transformer", "policy.multimodal.cellTextMatching=true"), 2, "error: policy.multimodal.cellTextMatching needs a text modality"),
        ["experiment file missing"] = new(["run", "/nonexistent/experiment.json", "--output", "{out}"], 2, "/nonexistent/experiment.json"),
        ["experiment file is a folder"] = new(["run", "{dir}", "--output", "{out}"], 2, "is a folder"),
        ["experiment file empty"] = new(["run", "{dir}/empty.json", "--output", "{out}"], 2, "empty.json", c => File.WriteAllText(Path.Combine(c.Dir, "empty.json"), "")),
        ["experiment file cut short"] = new(["run", "{dir}/cut.json", "--output", "{out}"], 2, "cut.json", c => File.WriteAllText(Path.Combine(c.Dir, "cut.json"), "{\"name\": \"x\",")),
        ["experiment file is an array"] = new(["run", "{dir}/array.json", "--output", "{out}"], 2, "must hold a JSON object", c => File.WriteAllText(Path.Combine(c.Dir, "array.json"), "[1, 2]")),
        ["experiment file is binary"] = new(["run", "{dir}/binary.json", "--output", "{out}"], 2, "binary.json", c => File.WriteAllBytes(Path.Combine(c.Dir, "binary.json"), [0x1E, 0xFF, 0x00, 0x42, 0x9C])),
        ["experiment file with a wrong type"] = new(["run", "{dir}/typed.json", "--output", "{out}"], 2, "env.numEnvs", c => File.WriteAllText(Path.Combine(c.Dir, "typed.json"), "{\"env\": {\"numEnvs\": \"four\"}}")),

        // ---- plug-ins: loading, options, construction ----
        ["plug-in assembly missing"] = new(Set("env.plugin=/nonexistent/Envs.dll:My.Env"), 2, "env.plugin"),
        ["plug-in spec malformed"] = new(Set("env.plugin=notaspec"), 2, "env.plugin: Plug-in 'notaspec' must be given as"),
        ["plug-in file not an assembly"] = new(Set("env.plugin={text}:My.Env"), 2, "is not a .NET assembly"),
        ["plug-in type missing"] = new(Set($"env.plugin={Plugin}:RLAgents.TestPlugin.Missing"), 2, "Type 'RLAgents.TestPlugin.Missing' was not found"),
        ["plug-in type not an env"] = new(Set($"env.plugin={Plugin}:RLAgents.TestPlugin.NotAnEnv"), 2, "is not a concrete class implementing"),
        ["plug-in id malformed"] = new(Set($"env.plugin={Plugin}:RLAgents.TestPlugin.BadIdEnv"), 2, "is not a versioned environment id"),
        ["plug-in option out of its range"] = new(Set($"env.plugin={Plugin}:RLAgents.TestPlugin.Corridor", "env.options={\"length\":1}"), 2, "env.options.length: 1 is out of range"),
        ["plug-in unknown option"] = new(Set($"env.plugin={Plugin}:RLAgents.TestPlugin.Corridor", "env.options={\"lenght\":4}"), 2, "env.options.lenght"),
        ["plug-in constructor rejects its options"] = new(Faulty("{\"fault\":\"constructorThrows\"}"), 2, "its constructor threw ArgumentException"),
        ["plug-in unknown fault option"] = new(Faulty("{\"fault\":\"sometimes\"}"), 2, "env.options.fault"),

        // ---- environment faults while training: exit 3, naming step, env and quantity ----
        ["plug-in Step throws later"] = new(Faulty("{\"fault\":\"stepThrows\",\"after\":100}"), 3, "Faulty-v0 (env 0): Step threw InvalidOperationException: Faulty: step 100 fails"),
        ["plug-in Reset throws later"] = new(Faulty("{\"fault\":\"resetThrows\",\"after\":3}"), 3, "Reset threw InvalidOperationException"),
        ["plug-in NaN reward"] = new(Faulty("{\"fault\":\"nanReward\",\"after\":100}"), 3, "at env step 200 (ppo, update 6): Faulty-v0 (env 0): Step returned reward NaN"),
        ["plug-in infinite reward"] = new(Faulty("{\"fault\":\"infiniteReward\",\"after\":100}"), 3, "reward Infinity"),
        ["plug-in NaN observation"] = new(Faulty("{\"fault\":\"nanObservation\",\"after\":100}"), 3, "modality 'state'[4] = NaN is outside"),
        ["plug-in observation out of its space"] = new(Faulty("{\"fault\":\"outOfSpace\",\"after\":100}"), 3, "modality 'state'[2] = 1.5 is outside"),
        ["plug-in wrong dtype"] = new(Faulty("{\"fault\":\"wrongDtype\"}"), 3, "modality 'state' holds UInt8; the space declares Float32"),
        ["plug-in transposed shape"] = new(Faulty("{\"fault\":\"transposedShape\"}"), 3, "modality 'state' has shape [3, 2]; the space declares [2, 3]"),
        ["plug-in returns no observation"] = new(Faulty("{\"fault\":\"nullObservation\"}"), 3, "Step returned no observation"),
        ["NaN loss with step checks off"] = new([.. Faulty("{\"fault\":\"nanReward\",\"after\":100}"), "--set", "training.checkEnvSteps=false"], 3, "= NaN (the update was not applied"),

        // ---- command line ----
        ["unknown verb"] = new(["trian"], 2, "Unrecognized command or argument 'trian'"),
        ["unknown option"] = new(["run", Config, "--outptu", "{out}"], 2, "--outptu"),
        ["run without an experiment"] = new(["run", "--output", "{out}"], 2, "run needs an experiment file"),
        ["resume with an experiment file"] = new(["run", Config, "--resume", "{run}"], 2, "--resume continues a run with its own stored configuration"),
        ["resume with --set"] = new(["run", "--resume", "{run}", "--set", "seed=3"], 2, "--resume continues a run"),
        ["--output is a file"] = new(["run", Config, "--output", "{text}"], 2, "--output {text} is a file"),
        ["eval of a missing checkpoint"] = new(["eval", "/nonexistent/ckpt.safetensors"], 2, "/nonexistent/ckpt.safetensors"),
        ["eval of zero episodes"] = new(["eval", "{run}", "--episodes", "0"], 2, "--episodes must be positive"),
        ["eval of negative episodes"] = new(["eval", "{run}", "--episodes", "-3"], 2, "--episodes must be positive"),
        ["eval episodes not a number"] = new(["eval", "{run}", "--episodes", "many"], 2, "many"),
        ["eval seed not a number"] = new(["eval", "{run}", "--seed", "x"], 2, "'x'"),
        ["eval of a folder without checkpoints"] = new(["eval", "{dir}"], 2, "holds no checkpoint"),
        ["eval recording onto the run's own log"] = new(["eval", "{run}", "--record", "{run}/episodes.arrows"], 2, "is inside the run directory"),
        ["eval recording onto the checkpoint"] = new(["eval", "{ckpt}", "--record", "{ckpt}"], 2, "is also an input"),
        ["check of an unknown env"] = new(["envs", "check", "Nope-v1"], 2, "No environment 'Nope-v1'"),
        ["check of zero steps"] = new(["envs", "check", "CartPole-v1", "--steps", "0"], 2, "--steps must be at least 1"),
        ["check of negative steps"] = new(["envs", "check", "CartPole-v1", "--steps", "-5"], 2, "--steps must be at least 1"),
        ["check with an unknown option"] = new(["envs", "check", "CartPole-v1", "--options", "{\"nope\":1}"], 2, "--options.nope"),
        ["check with options that are not JSON"] = new(["envs", "check", "CartPole-v1", "--options", "length=4"], 2, "--options: not valid JSON"),
        ["check with a zero time limit"] = new(["envs", "check", "CartPole-v1", "--max-episode-steps", "0"], 2, "--max-episode-steps must be at least 1"),
        ["check of a missing plug-in type"] = new(["envs", "check", $"{Plugin}:RLAgents.TestPlugin.Missing"], 2, "was not found"),
        ["demonstrations from an env without an expert"] = new(["demos", "generate", "--env", "CartPole-v1", "--out", "{dir}/demos.arrow"], 2, "CartPole-v1 has no expert policy"),
        ["demonstrations from an unknown env"] = new(["demos", "generate", "--env", "Nope-v0", "--out", "{dir}/demos.arrow"], 2, "Nope-v0"),
        ["zero demonstrations"] = new(["demos", "generate", "--env", "BabyAI-GoToLocal-v0", "--episodes", "0", "--out", "{dir}/demos.arrow"], 2, "--episodes must be positive"),
        ["record with an unknown policy"] = new(["record", "--env", "CartPole-v1", "--policy", "smart", "--out", "{dir}/r.arrow"], 2, "--policy must be random or expert"),
        ["record zero episodes"] = new(["record", "--env", "CartPole-v1", "--episodes", "0", "--out", "{dir}/r.arrow"], 2, "--episodes must be positive"),
        ["record without --out"] = new(["record", "--env", "CartPole-v1"], 2, "--out"),
        ["pretrain file missing"] = new(["pretrain", "/nonexistent/pretrain.json"], 2, "/nonexistent/pretrain.json"),
        ["config of an unknown kind"] = new(["config", "nonsense"], 2, "nonsense"),

        // ---- episode-log verbs and their outputs ----
        ["render an episode that is not in the log"] = new(["render", "{log}", "--episode", "9999"], 2, "episode 9999 is not in"),
        ["render in an unknown format"] = new(["render", "{log}", "--format", "bmp"], 2, "render: unknown format 'bmp'"),
        ["render a GIF without --out"] = new(["render", "{log}", "--format", "gif"], 2, "needs --out"),
        ["render HTML over the log"] = new(["render", "{log}", "--format", "html", "--out", "{log}"], 2, "--out {log} is also an input"),
        ["render GIF over the log"] = new(["render", "{log}", "--format", "gif", "--out", "{log}"], 2, "is also an input"),
        ["render PNG frames into a file"] = new(["render", "{log}", "--format", "png", "--out", "{text}"], 2, "is a file"),
        ["render a missing log"] = new(["render", "/nonexistent/x.arrow"], 2, "episode log '/nonexistent/x.arrow' does not exist"),
        ["replay a missing log"] = new(["replay", "/nonexistent/x.arrow"], 2, "does not exist"),
        ["replay an episode that is not in the log"] = new(["replay", "{log}", "--episode", "9999"], 2, "episode 9999 is not in"),
        ["replay an empty file"] = new(["replay", "{dir}/empty.arrow"], 2, "the file is empty", c => File.WriteAllBytes(Path.Combine(c.Dir, "empty.arrow"), [])),
        ["replay a text file"] = new(["replay", "{text}"], 2, "episode log damaged at byte 0"),
        ["statistics of a missing log"] = new(["episodes", "stats", "/nonexistent/x.arrow"], 2, "does not exist"),
        ["to-sft over its input"] = new(["episodes", "to-sft", "{log}", "--out", "{log}"], 2, "--out {log} is also an input"),
        ["to-sft with an unknown filter"] = new(["episodes", "to-sft", "{log}", "--filter", "bogus=1", "--out", "{dir}/sft.arrow"], 2, "bogus"),
        ["export over its input"] = new(["episodes", "export", "{log}", "--out", "{log}"], 2, "--out {log} is also an input"),
        ["export in an unknown format"] = new(["episodes", "export", "{log}", "--format", "csv", "--out", "{dir}/x.csv"], 2, "export: unknown format 'csv'"),
        ["export with a malformed filter"] = new(["episodes", "export", "{log}", "--filter", "minReturn=abc", "--out", "{dir}/x.jsonl"], 2, "minReturn"),
        ["render a log whose schema is damaged"] = new(["render", "{log}"], 2, "the schema (bytes 0..", c => c.Flip(c.Log, 300)),
        ["statistics of a log damaged mid-file"] = new(["episodes", "stats", "{log}"], 1, "CRC-32C", c => c.Flip(c.Log, new FileInfo(c.Log).Length / 2)),
        ["statistics of a torn log"] = new(["episodes", "stats", "{log}"], 1, "truncated", c => c.Truncate(c.Log, 0.7)),
        ["replay a log damaged mid-file"] = new(["replay", "{log}"], 1, "reading resumed at byte", c => c.Flip(c.Log, new FileInfo(c.Log).Length / 2)),

        // ---- resume ----
        ["resume a missing run"] = new(["run", "--resume", "/nonexistent/run"], 2, "run directory '/nonexistent/run' does not exist"),
        ["resume a folder that is not a run"] = new(["run", "--resume", "{dir}"], 2, "is not a run directory (no config.json)"),
        ["resume with a damaged latest.json"] = new(["run", "--resume", "{run}"], 2, "latest.json is damaged", c => File.WriteAllText(Path.Combine(c.Checkpoints, "latest.json"), "{\"format\": 2, \"id\": ")),
        ["resume with latest.json not an object"] = new(["run", "--resume", "{run}"], 2, "latest.json is damaged", c => File.WriteAllText(Path.Combine(c.Checkpoints, "latest.json"), "[2]")),
        ["resume with latest.json naming a missing checkpoint"] = new(["run", "--resume", "{run}"], 2, "which does not exist",
            c => File.WriteAllText(Path.Combine(c.Checkpoints, "latest.json"), "{\"format\":2,\"id\":\"phase-000-step-0000099999\"}")),
        ["resume with latest.json naming a path"] = new(["run", "--resume", "{run}"], 2, "is not a checkpoint id",
            c => File.WriteAllText(Path.Combine(c.Checkpoints, "latest.json"), "{\"format\":2,\"id\":\"../../etc/passwd\"}")),
        ["resume a run of an earlier format"] = new(["run", "--resume", "{run}"], 2, "run format 1",
            c => File.WriteAllText(Path.Combine(c.Checkpoints, "latest.json"), "{\"stem\":\"step-512\"}")),
        ["resume with a flipped header byte"] = new(["run", "--resume", "{run}"], 2, "header (bytes 8..", c => c.Flip(c.Latest, 40)),
        ["resume with a flipped weight"] = new(["run", "--resume", "{run}"], 2, "is damaged: its CRC-32C", c => c.Flip(c.Latest, -5)),
        ["resume with a truncated checkpoint"] = new(["run", "--resume", "{run}"], 2, ".safetensors", c => c.Truncate(c.Latest, 0.5)),
        ["resume with a flipped state byte"] = new(["run", "--resume", "{run}"], 2, ".json is damaged: its CRC-32C", c => c.Flip(c.LatestState, 30)),
        ["resume with the state missing"] = new(["run", "--resume", "{run}"], 2, "is missing next to", c => File.Delete(c.LatestState)),
        ["resume with a metrics line damaged before the end"] = new(["run", "--resume", "{run}"], 2, "line 1 (byte offset 0) is not a JSON metrics row",
            c =>
            {
                // Back to the first checkpoint, so the run has steps left and reads its metrics to resume.
                string first = Path.GetFileNameWithoutExtension(Directory.GetFiles(c.Checkpoints, "*.safetensors").Min()!);
                File.WriteAllText(Path.Combine(c.Checkpoints, "latest.json"), $"{{\"format\":2,\"id\":\"{first}\"}}");
                File.WriteAllText(Path.Combine(c.Run, "metrics.jsonl"), "{\"step\": 1, \"upd#te" + File.ReadAllText(Path.Combine(c.Run, "metrics.jsonl"))[12..]);
            }),
        ["resume without config.json"] = new(["run", "--resume", "{run}"], 2, "is not a run directory (no config.json)", c => File.Delete(Path.Combine(c.Run, "config.json"))),
        ["resume with config.json cut short"] = new(["run", "--resume", "{run}"], 2, "config.json' is not valid JSON", c => c.Truncate(Path.Combine(c.Run, "config.json"), 0.5)),
        ["resume with an unknown key in config.json"] = new(["run", "--resume", "{run}"], 2, "bogus",
            c => File.WriteAllText(Path.Combine(c.Run, "config.json"), File.ReadAllText(Path.Combine(c.Run, "config.json")).Replace("\"name\"", "\"bogus\": 1, \"name\""))),

        // ---- checkpoints read by eval ----
        ["eval a checkpoint with a flipped weight"] = new(["eval", "{ckpt}"], 2, "is damaged: its CRC-32C", c => c.Flip(c.Latest, -9)),
        ["eval a truncated checkpoint"] = new(["eval", "{ckpt}"], 2, ".safetensors", c => c.Truncate(c.Latest, 0.5)),
        ["eval a checkpoint without its state"] = new(["eval", "{ckpt}"], 2, "is missing next to", c => File.Delete(c.LatestState)),
        ["eval a text file as a checkpoint"] = new(["eval", "{text}"], 2, "notes.txt"),
        ["eval a run whose state was edited"] = new(["eval", "{run}"], 2, "is damaged",
            c => File.WriteAllText(c.LatestState, File.ReadAllText(c.LatestState).Replace("\"envSteps\": 512", "\"envSteps\": 513"))),
    };

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in Corpus.Keys) data.Add(name);
        return data;
    }

    [Fact]
    public void TheCorpusHoldsOverAHundredMistakes() => Assert.True(Corpus.Count >= 100, $"{Corpus.Count} cases");

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryMistakeIsOneLineWithItsExitCodeAndLeavesTheInputsAsTheyWere(string name)
    {
        var mistake = Corpus[name];
        var c = NewCase();
        mistake.Prepare?.Invoke(c);
        var before = Snapshot(c.Dir);
        string configHash = Hash(Config);

        string Fill(string a) => a.Replace("{out}", c.Out).Replace("{run}", c.Run).Replace("{log}", c.Log).Replace("{text}", c.Text)
            .Replace("{dir}", c.Dir).Replace("{ckpt}", c.Latest);
        var r = CliRunner.Run([.. mistake.Args.Select(Fill)]);

        var lines = r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("warning: ", StringComparison.Ordinal)).ToList();
        Assert.True(mistake.Exit == r.ExitCode, $"{name}: exit {r.ExitCode}, expected {mistake.Exit}\n{r.Error}");
        Assert.DoesNotContain("   at ", r.Error);
        Assert.True(lines.Count == 1, $"{name}: {lines.Count} error lines:\n{r.Error}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(Fill(mistake.Expect), lines[0]);
        // Inputs byte for byte as they were, nothing new beside them, and no run directory without content.
        Assert.Equal(before, Snapshot(c.Dir));
        Assert.Equal(configHash, Hash(Config));
        Assert.Empty(Directory.GetDirectories(c.Out));
    }

    private Case NewCase()
    {
        string dir = TempDirectory.ForProcess.NewDirectory();
        string run = Path.Combine(dir, "run");
        foreach (var file in Directory.GetFiles(fixture.Run, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(run, Path.GetRelativePath(fixture.Run, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var c = new Case(dir, run);
        File.Copy(Path.Combine(run, RLAgents.Agents.Training.TrainingRunner.EpisodeLogFile), c.Log);
        File.WriteAllText(c.Text, "notes, not data\n");
        Directory.CreateDirectory(c.Out);
        return c;
    }

    // Every file under the folder (except the output folder) with its content hash.
    private static string Snapshot(string dir) => string.Join("\n", Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
        .Where(f => !f.StartsWith(Path.Combine(dir, "out") + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        .Order(StringComparer.Ordinal).Select(f => $"{Path.GetRelativePath(dir, f)} {Hash(f)}"));

    private static string Hash(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
}
