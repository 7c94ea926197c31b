using System.Text.Json;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.GridWorld.Rendering;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;
using RLAgents.EpisodeLogs;
using RLAgents.Policies;
using static RLAgents.Agents.Tests.Phases.PhaseTestKit;

namespace RLAgents.Agents.Tests.Training;

/// <summary>Agents that see pixels: the <c>env.pixels</c> / <c>grayscale</c> / <c>resize</c> / <c>frameStack</c> sections, their demonstrations and a tiny run.</summary>
public sealed class PixelObservationTests
{
    private static readonly GridWorldOptions GridOptions = new() { IncludeDescription = false };

    private static ExperimentOptions Bind(string env) =>
        OptionsBinder.Bind<ExperimentOptions>(JsonDocument.Parse($$"""{ "env": {{env}} }""").RootElement, "");

    /// <summary>The phase kit's GoToRedBallGrey agent (Transformer, 16 wide) seeing Minigrid's 56×56 RGB view as 8×8 patches.</summary>
    private static ExperimentOptions PixelAgent(params PhaseOptions[] phases)
    {
        var options = Options(PolicyArchitecture.Transformer, phases);
        options.Env.Pixels = new PixelObservationOptions();
        return options;
    }

    [Fact]
    public void ImageSectionsBindStrictlyAndErrorsNameTheirKeys()
    {
        var unknown = Assert.Throws<ConfigurationException>(() => Bind("""{ "id": "BabyAI-GoToRedBallGrey-v0", "pixels": { "view": "agent", "zoom": 2 } }"""));
        Assert.Contains("env.pixels.zoom", unknown.Message);
        var view = Assert.Throws<ConfigurationException>(() => Bind("""{ "id": "BabyAI-GoToRedBallGrey-v0", "pixels": { "view": "sideways" } }"""));
        Assert.Contains("env.pixels.view", view.Message);
        var weights = Assert.Throws<ConfigurationException>(() => Bind("""{ "id": "BabyAI-GoToRedBallGrey-v0", "pixels": {}, "grayscale": { "weights": "rec2020" } }"""));
        Assert.Contains("env.grayscale.weights", weights.Message);

        var tile = Assert.Throws<ConfigurationException>(() => Bind("""{ "id": "BabyAI-GoToRedBallGrey-v0", "pixels": { "tileSize": 0 } }"""));
        Assert.Equal("env.pixels.tileSize", tile.Path);
        var frames = Assert.Throws<ConfigurationException>(() => Bind("""{ "id": "BabyAI-GoToRedBallGrey-v0", "pixels": {}, "frameStack": { "frames": 0 } }"""));
        Assert.Equal("env.frameStack.frames", frames.Path);
        var batched = Bind("""{ "id": "CartPole-v1", "vectorization": "batched", "frameStack": { "frames": 2 } }""");
        Assert.Equal("env.vectorization", Assert.Throws<ConfigurationException>(batched.Validate).Path);

        // Mistakes that need the environment surface when its envs are built, before any run directory exists.
        var cartPole = Bind("""{ "id": "CartPole-v1", "numEnvs": 2, "pixels": {} }""");
        var noPixels = Assert.Throws<ConfigurationException>(() => AgentFactory.MakeEnv(cartPole, 2));
        Assert.Equal("env.pixels", noPixels.Path);
        Assert.Contains("CartPole-v1", noPixels.Message);
        var symbolic = Bind("""{ "id": "BabyAI-GoToRedBallGrey-v0", "numEnvs": 2, "resize": { "height": 28, "width": 28 } }""");
        Assert.Equal("env.resize.modalities", Assert.Throws<ConfigurationException>(() => AgentFactory.MakeEnv(symbolic, 2)).Path);
        var clash = Bind("""{ "id": "BabyAI-GoToRedBallGrey-v0", "pixels": { "modality": "direction" } }""");
        Assert.Equal("env.pixels.modality", Assert.Throws<ConfigurationException>(() => AgentFactory.MakeSingleEnv(clash)).Path);
        using var temp = new TempDirectory();
        string runDir = temp.Combine("run");
        Assert.Equal("env.pixels", Assert.Throws<ConfigurationException>(() => TrainingRunner.Run(cartPole, runDir)).Path);
        Assert.False(Directory.Exists(runDir));
    }

    [Fact]
    public void ImageSectionsWrapEverySubEnvironmentInTheirFixedOrder()
    {
        var options = Bind("""
            { "id": "BabyAI-GoToRedBallGrey-v0", "numEnvs": 3, "options": { "includeDescription": false },
              "frameStack": { "frames": 2, "modalities": ["rgb"] }, "resize": { "height": 28, "width": 21 }, "grayscale": {}, "pixels": { "modality": "rgb" } }
            """);
        options.Validate();
        using var env = AgentFactory.MakeEnv(options, 3);
        var space = env.SingleObservationSpace;
        // The symbolic image stays (and is not stacked: only rgb is listed); the picture is added, grey, resized, then two frames stacked.
        Assert.Equal(["image", "direction", "mission", "rgb"], space.Modalities.Select(m => m.Name));
        Assert.Equal([28, 21, 2], ((BoxSpace)space["rgb"].Space).Shape);
        Assert.Equal([7, 7, 3], ((BoxSpace)space["image"].Space).Shape);
        using var single = AgentFactory.MakeSingleEnv(options);
        Assert.True(single.ObservationSpace.SameLayout(space));
        Assert.NotNull(single.Find<IExpertEnv>());
        env.Reset(4);
        env.Step(Enumerable.Repeat(2, 3).ToArray());
        Assert.Equal(3, env.Observations.Count);
    }

    [Fact]
    public void BotDemonstrationsStoreWhatThePixelWrappedEnvEmitsForTheSameSeedAndActions()
    {
        var options = PixelAgent();
        options.Env.FrameStack = new FrameStackOptions { Frames = 2 };
        using var probe = AgentFactory.MakeEnv(options, 1);
        var space = probe.SingleObservationSpace;
        Assert.Equal([56, 56, 6], ((BoxSpace)space["image"].Space).Shape);
        var (set, _) = DemonstrationSet.FromExpert(() => AgentFactory.MakeSingleEnv(options), space, 3, 41UL, 0.99);
        Assert.Equal(3, set.Episodes);
        var batch = set.ToBatch();

        // The same episodes, re-drawn on the symbolic level (FromExpert's seeds; failures skipped) and
        // replayed through a chain built by hand: the registry's env, Minigrid's RGB view, two frames.
        using var symbolic = EnvRegistry.CreateDefault().Make(Level, GridOptions);
        var expert = Experts.For(symbolic);
        var demos = new List<ExpertEpisode>();
        for (int attempt = 0; demos.Count < 3; attempt++)
            if (Experts.Play(symbolic, expert, unchecked((long)Rng.DeriveSeed(41UL, "bot", attempt))) is { Success: true } d) demos.Add(d);
        using var wrapped = new FrameStackObservation(new GridWorldPixels(EnvRegistry.CreateDefault().Make(Level, GridOptions), new PixelObservationOptions()), new FrameStackOptions { Frames = 2 });
        int row = 0;
        foreach (var demo in demos)
        {
            var obs = wrapped.Reset(demo.Seed).Observation;
            for (int t = 0; t < demo.Length; t++)
            {
                var stored = new Observation(space);
                batch.Get(row, stored);
                Assert.Equal(demo.Actions[t], set.Actions[row++]);
                Assert.True(stored.ContentEquals(obs), $"demo step {t}: the stored observation differs from the wrapped env's");
                if (t + 1 < demo.Length) obs = wrapped.Step(demo.Actions[t]).Observation;
            }
        }
        Assert.Equal(set.Count, row);
    }

    [Fact]
    public void SymbolicDemonstrationLogsAreReplayedUnderThePixelWrappers()
    {
        using var temp = new TempDirectory();
        string log = temp.Combine("demos.arrows");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        try
        {
            // A symbolic demonstration log as `rlagents demos generate` writes it, plus one episode begun
            // without a seed (the recorder captures its layout as the start state, as for a vector env's autoresets).
            var seeds = new List<long>();
            using (var recorder = EpisodeRecorder.Create(EnvRegistry.CreateDefault().Make(Level, GridOptions), log, out var writer, envOptions: GridOptions))
            using (writer)
            {
                var expert = Experts.For(recorder);
                for (int i = 0; seeds.Count < 2; i++)
                    if (Experts.Play(recorder, expert, 500 + i) is { Success: true }) seeds.Add(500 + i);
                recorder.Reset();
                while (!recorder.Step(expert.Act()).Done) { }
            }
            var header = EpisodeLogReader.ReadAll(log).Header;
            Assert.Equal(7 * 7 * 3, header.Modalities.Single(m => m.Name == "image").Size);

            var options = PixelAgent();
            options.Env.Grayscale = new GrayscaleOptions();
            using var probe = AgentFactory.MakeEnv(options, 1);
            var space = probe.SingleObservationSpace;
            var images = options.Env.Images;
            var set = DemonstrationSet.FromLogs([log], space, 0, 0.99, new Replayer(), images.Wrap);
            Assert.Equal(3, set.Episodes);
            var batch = set.ToBatch();
            var episodes = EpisodeLogReader.ReadAll(log).Episodes;
            Assert.Equal(3, episodes.Count);
            Assert.True(episodes[2].Seed is null && episodes[2].StartState is not null, "the unseeded episode should carry its start state (a layout)");
            // What the agent sees is a function of the logged symbolic view: Minigrid's tiles, then luma.
            var renderer = new TileRenderer(8);
            var logged = new Observation(new ObservationSpace([.. header.Modalities.Select(m => m.ToModality())]));
            var rgb = new byte[56 * 56 * 3];
            var grey = new byte[56 * 56];
            int row = 0;
            foreach (var episode in episodes)
            {
                if (episode.Index < 2) Assert.Equal(seeds[(int)episode.Index], episode.Seed);
                for (int t = 0; t < episode.Length; t++)
                {
                    var stored = new Observation(space);
                    batch.Get(row, stored);
                    Assert.Equal(episode.Actions[t], set.Actions[row++]);
                    for (int m = 0; m < episode.Observations.Length; m++) episode.Observations[m].CopyTo(t, logged, m);
                    renderer.RenderView(logged.Bytes("image"), rgb);
                    GrayscaleObservation.Convert(rgb, grey, LumaWeights.Rec601);
                    Assert.True(stored.Bytes("image").SequenceEqual(grey), $"episode {episode.Index}, step {t}: the replayed picture differs from the logged view's");
                    Assert.Equal(logged.GetInt("direction"), stored.GetInt("direction"));
                    Assert.Equal(logged.GetText("mission"), stored.GetText("mission"));
                }
            }
            Assert.Equal(set.Count, row);

            // Without the wrappers the symbolic log no longer fits the pixel agent: one line naming the file.
            var refused = Assert.Throws<InvalidDataException>(() => DemonstrationSet.FromLogs([log], space, 0, 0.99, new Replayer()));
            Assert.Contains(log, refused.Message);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(log)!, true);
        }
    }

    [Fact]
    public void APixelAgentTrainsThroughTheRunnerAndItsEpisodeLogStaysSymbolicAndReplays()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        try
        {
            var options = PixelAgent(Sft(expertEpisodes: 2, updates: 3), Ppo(steps: 64));
            options.Recording = new EpisodeRecorderOptions();
            var result = TrainingRunner.Run(options, run);
            Assert.Equal(64, result.EnvSteps);
            Assert.Equal(2, result.Phases.Count);
            var weights = LatestPolicy(run);
            var patches = Assert.Single(weights, p => p.Key.EndsWith(".projection.weight", StringComparison.Ordinal));
            Assert.Equal(16 * 3 * 8 * 8, patches.Value.Length);
            string logPath = Path.Combine(run, TrainingRunner.EpisodeLogFile);
            var log = EpisodeLogReader.ReadAll(logPath);
            Assert.NotEmpty(log.Episodes);
            Assert.Equal(7 * 7 * 3, log.Header.Modalities.Single(m => m.Name == "image").Size);
            var report = new Replayer().Verify(logPath);
            Assert.All(report.Episodes, e => Assert.Null(e.Divergence));
            // The agent's own recorded episodes replay under its pixel wrappers too.
            using var probe = AgentFactory.MakeEnv(options, 1);
            var replayed = DemonstrationSet.FromLogs([logPath], probe.SingleObservationSpace, 0, 0.99, new Replayer(), options.Env.Images.Wrap);
            Assert.Equal(log.Episodes.Count, replayed.Episodes);
            Assert.Equal(log.Episodes.Sum(e => e.Length), replayed.Count);
        }
        finally
        {
            Directory.Delete(run, true);
        }
    }
}
