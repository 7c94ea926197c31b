using System.Text.Json;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Mixtures;
using RLAgents.Environments.Vector;

namespace RLAgents.Environments.Tests.Mixtures;

public sealed class MixtureEnvTests
{
    private static readonly string[] Levels = ["BabyAI-GoToRedBallGrey-v0", "BabyAI-GoToLocal-v0", "BabyAI-PickupLoc-v0"];

    private static MixtureEnv Make(string[]? ids = null, double[]? weights = null, bool gridWorldOptions = true) =>
        (MixtureEnv)EnvRegistry.CreateDefault().Get(BabyAILevels.MixtureId.ToString()).CreateUnwrapped(new MixtureOptions
        {
            Ids = ids ?? Levels,
            Weights = weights,
            EnvOptions = gridWorldOptions ? JsonDocument.Parse("""{ "includeDescription": false }""").RootElement : null,
        });

    [Fact]
    public void TaskLabelsDropTheSharedPrefixAndTheVersion()
    {
        Assert.Equal(["GoToRedBallGrey", "GoToLocal", "PickupLoc"], MixtureEnv.TaskLabels(Levels));
        Assert.Equal(["CartPole-v1", "CartPole-v2"], MixtureEnv.TaskLabels(["CartPole-v1", "CartPole-v2"]));
        Assert.Equal(["BabyAI-GoTo"], MixtureEnv.TaskLabels(["BabyAI-GoTo-v0"]));
    }

    [Fact]
    public void TheSameSeedGivesTheSameEpisodeAndEveryStepNamesItsTask()
    {
        using var a = Make();
        using var b = Make();
        for (long seed = 0; seed < 20; seed++)
        {
            var ra = a.Reset(seed);
            var rb = b.Reset(seed);
            Assert.Equal(a.CurrentTask, b.CurrentTask);
            Assert.Equal(a.CurrentTask, ra.Info.Task);
            Assert.Equal(ra.Observation.GetText(2), rb.Observation.GetText(2));
            Assert.True(ra.Observation.Bytes(0).SequenceEqual(rb.Observation.Bytes(0)));
            var step = a.Step(2);
            Assert.Equal(a.CurrentTask, step.Info.Task);
            Assert.Equal(ra.Info.Task, step.Info.Task);
        }
    }

    [Fact]
    public void EpisodesDrawTasksInProportionToTheirWeights()
    {
        using var env = Make(weights: [1, 2, 5]);
        env.Reset(7);
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < 4000; i++)
        {
            env.Reset();
            counts[env.CurrentTask] = counts.GetValueOrDefault(env.CurrentTask) + 1;
        }
        Assert.InRange(counts["GoToRedBallGrey"] / 4000.0, 0.125 - 0.025, 0.125 + 0.025);
        Assert.InRange(counts["GoToLocal"] / 4000.0, 0.25 - 0.03, 0.25 + 0.03);
        Assert.InRange(counts["PickupLoc"] / 4000.0, 0.625 - 0.03, 0.625 + 0.03);
    }

    [Fact]
    public void ActiveTasksNarrowUnseededResetsButSeededResetsDrawFromEveryTask()
    {
        using var env = Make();
        env.ActiveTasks = 1;
        env.Reset(3);
        var unseeded = new HashSet<string>();
        for (int i = 0; i < 200; i++) { env.Reset(); unseeded.Add(env.CurrentTask); }
        Assert.Equal(["GoToRedBallGrey"], unseeded);
        var seeded = new HashSet<string>();
        for (long s = 0; s < 200; s++) { env.Reset(s); seeded.Add(env.CurrentTask); }
        Assert.Equal(3, seeded.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => env.ActiveTasks = 4);
    }

    [Fact]
    public void AStartStateRestoresTheSameEpisodeInAFreshMixture()
    {
        using var env = Make();
        env.Reset(11);
        for (int i = 0; i < 5; i++) env.Reset();
        string state = env.CaptureStartState();
        string task = env.CurrentTask;
        var first = env.Step(1).Observation.Clone();

        using var other = Make();
        other.Reset(0);
        other.RestoreStartState(state);
        Assert.Equal(task, other.CurrentTask);
        var replayed = other.Step(1).Observation;
        Assert.True(first.Bytes(0).SequenceEqual(replayed.Bytes(0)));
        Assert.Equal(first.GetText(2), replayed.GetText(2));
        Assert.Throws<InvalidDataException>(() => other.RestoreStartState("""{"Task":"Nope","Seed":1}"""));
    }

    [Fact]
    public void PartsWhoseSpacesDifferAreRejectedNamingTheId()
    {
        var e = Assert.Throws<ConfigurationException>(() => Make(["BabyAI-GoToLocal-v0", "CartPole-v1"], gridWorldOptions: false));
        Assert.Contains("env.options.ids[1]", e.Message);
        Assert.Contains("CartPole-v1", e.Message);
        var unknown = Assert.Throws<ConfigurationException>(() => Make(["BabyAI-GoToLocal-v0", "BabyAI-Nope-v0"]));
        Assert.Contains("env.options.ids[1]", unknown.Message);
        var options = Assert.Throws<ConfigurationException>(() => Make(["BabyAI-GoToLocal-v0", "CartPole-v1"]));
        Assert.Contains("env.options.envOptions.includeDescription", options.Message);
    }

    [Fact]
    public void WeightsMustBePositiveAndOnePerId()
    {
        var options = JsonDocument.Parse("""{ "ids": ["BabyAI-GoToLocal-v0", "BabyAI-PickupLoc-v0"], "weights": [1, 0] }""").RootElement;
        var e = Assert.Throws<ConfigurationException>(() => OptionsBinder.Bind<MixtureOptions>(options, "env.options"));
        Assert.Contains("weights", e.Message);
    }

    [Fact]
    public void TheExpertOfTheCurrentPartSolvesEpisodesOfEveryTask()
    {
        using var env = Make();
        var expert = Experts.For(env);
        var solved = new HashSet<string>();
        for (long seed = 0; seed < 30; seed++)
        {
            var episode = Experts.Play(env, expert, seed);
            Assert.NotNull(episode);
            Assert.True(episode.Success, $"seed {seed} ({env.CurrentTask})");
            solved.Add(env.CurrentTask);
        }
        Assert.Equal(3, solved.Count);
    }

    [Fact]
    public void PicturesActionNamesAndVocabularyComeFromTheParts()
    {
        using var env = Make();
        env.Reset(5);
        var inner = (GridWorldEnv)env.Current.Unwrapped();
        Assert.Equal(inner.RenderText(), env.Find<IRenderText>()!.RenderText());
        Assert.Equal(inner.RenderFrame().Pixels, env.Find<IRenderFrame>()!.RenderFrame().Pixels);
        Assert.Equal(inner.ActionNames, env.Find<IActionNames>()!.ActionNames);
        var words = env.Find<ITextVocabulary>()!.TextVocabulary;
        Assert.Equal(words.Count, words.Distinct().Count());
        Assert.Contains("pick", words);
    }

    [Fact]
    public void SubEnvironmentCapabilitiesAreFoundThroughAVectorEnv()
    {
        var registry = EnvRegistry.CreateDefault();
        using var vector = VectorEnvs.Make(registry, BabyAILevels.MixtureId.ToString(), 3, AutoresetMode.SameStep);
        var mixtures = VectorEnvs.FindAll<ITaskMixture>(vector);
        Assert.Equal(3, mixtures.Count);
        Assert.Equal(BabyAILevels.DefaultMixture.Count, mixtures[0].Tasks.Count);
        using var cartPole = VectorEnvs.Make(registry, "CartPole-v1", 2, AutoresetMode.SameStep);
        Assert.Empty(VectorEnvs.FindAll<ITaskMixture>(cartPole));
    }
}
