using RLAgents.LanguageModel.FineTuning;
using RLAgents.LanguageModel.Lora;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.LanguageModel.Training;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.LanguageModel.Tests.FineTuning;

public class SftTrainerTests
{
    // A tiny instruction → action-sequence mapping, like an agent's supervised phase would see.
    private static readonly SftExample[] Mapping =
    [
        new("go to the red ball", "forward forward left"),
        new("go to the blue key", "right forward"),
        new("pick up the green box", "left left pickup"),
        new("open the yellow door", "forward toggle"),
        new("go to the grey ball", "right right forward"),
        new("pick up the red key", "forward pickup"),
        new("open the purple door", "left forward toggle"),
        new("put the blue ball down", "drop"),
    ];

    private static readonly WordLevelTokenizer Tokenizer = WordLevelTokenizer.Build(Mapping.SelectMany(e => new[] { e.Prompt, e.Target }));

    private static GptModel NewModel() => new(new GptConfig
    {
        VocabSize = Tokenizer.VocabSize, BlockSize = 16, NLayer = 2, NHead = 2, NEmbd = 32, Dropout = 0,
    }, seed: 4);

    [Fact]
    public void CollateMasksThePromptAndPadding()
    {
        using var scope = NewDisposeScope();
        using var batch = SftBatch.Collate([new("go to the red ball", "forward left"), new("open the yellow door", "toggle")], Tokenizer, 16);
        var special = Tokenizer.Special;
        int Id(string w) => Tokenizer.TokenToId(w)!.Value;
        // Row 0: <bos> go to the red ball <sep> forward left <eos>  (10 tokens → 9 inputs).
        Assert.Equal(new long[] { 2, 9 }, batch.Inputs.shape);
        Assert.Equal(new long[] { special.Bos, Id("go"), Id("to"), Id("the"), Id("red"), Id("ball"), special.Sep, Id("forward"), Id("left") }, batch.Inputs[0].data<long>().ToArray());
        const long X = CausalLanguageModeling.IgnoreIndex;
        // The label at <sep> is the first target word: prompt words predict nothing.
        Assert.Equal(new long[] { X, X, X, X, X, X, Id("forward"), Id("left"), special.Eos }, batch.Labels[0].data<long>().ToArray());
        // Row 1: <bos> open the yellow door <sep> toggle <eos> (8 tokens → 7 inputs), then padding.
        Assert.Equal(new long[] { X, X, X, X, X, Id("toggle"), special.Eos, X, X }, batch.Labels[1].data<long>().ToArray());
        Assert.Equal(new[] { true, true, true, true, true, true, true, false, false }, batch.AttentionMask[1].data<bool>().ToArray());
        Assert.Equal(special.Pad, batch.Inputs[1, 8].item<long>());
    }

    [Fact]
    public void MaskedLossAveragesOverTargetTokensOnly()
    {
        using var scope = NewDisposeScope();
        using var model = NewModel();
        using var batch = SftBatch.Collate(Mapping[..3], Tokenizer, 16);
        double loss = SftTrainer.MaskedLoss(model, batch).item<float>();

        // Reference: log-softmax picked at labelled positions, averaged by hand.
        var logp = F.log_softmax(model.forward(new GptInput(TokenIds: batch.Inputs, AttentionMask: batch.AttentionMask)).Logits!, -1);
        long[] labels = batch.Labels.data<long>().ToArray();
        long t = batch.Labels.shape[1];
        double sum = 0;
        int count = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == CausalLanguageModeling.IgnoreIndex) continue;
            sum -= logp[i / t, i % t, labels[i]].item<float>();
            count++;
        }
        Assert.Equal(Mapping[..3].Sum(e => Tokenizer.Encode(e.Target).Length + 1), count);
        Assert.Equal(sum / count, loss, 4);
    }

    [Fact]
    public void FullFineTuningLearnsTheMapping()
    {
        using var model = NewModel();
        using var trainer = new SftTrainer(model, Tokenizer, new TextSftOptions { LearningRate = 3e-3, MinLearningRate = 3e-4, Updates = 150, BatchSize = 8, Seed = 2 });
        var losses = trainer.Train(Mapping);
        Assert.True(losses[^1] < 0.1 * losses[0], $"loss {losses[0]} → {losses[^1]}");
        foreach (var example in Mapping) Assert.Equal(example.Target, trainer.Generate(example.Prompt));
    }

    [Fact]
    public void LoraFineTuningRemapsAPretrainedBaseWithTheBaseFrozen()
    {
        // LoRA adapts a trained model (on a random base the attention pattern itself would have to be
        // learned through products of zero-initialised factors, which is not what adapters are for):
        // full fine-tuning learns the mapping, then LoRA alone learns a rotated one.
        using var model = NewModel();
        using (var full = new SftTrainer(model, Tokenizer, new TextSftOptions { LearningRate = 3e-3, MinLearningRate = 3e-4, Updates = 150, BatchSize = 8, Seed = 2 }))
            full.Train(Mapping);
        var rotated = Mapping.Select((e, i) => new SftExample(e.Prompt, Mapping[(i + 1) % Mapping.Length].Target)).ToArray();
        var baseWeights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.clone());

        using var trainer = new SftTrainer(model, Tokenizer, new TextSftOptions
        {
            // 300 updates: with 150 the rotated mapping was reached on some batch seeds only (4–8 of 8 over seeds 3–7).
            LearningRate = 1e-2, MinLearningRate = 1e-3, Updates = 300, BatchSize = 8, Seed = 3,
            Lora = new LoraOptions { Rank = 8, Alpha = 16 },
        });
        var losses = trainer.Train(rotated);
        Assert.True(losses[^1] < 0.2 * losses[0], $"loss {losses[0]} → {losses[^1]}");
        int correct = rotated.Count(e => trainer.Generate(e.Prompt) == e.Target);
        Assert.True(correct >= 6, $"{correct}/8 rotated mappings reproduced");
        foreach (var (name, before) in baseWeights)
            Assert.True(model.named_parameters().First(p => p.name == name).parameter.equal(before).all().item<bool>(), name);
        Assert.All(LoraAdapters.TrainableParameters(model), p => Assert.Contains(".lora_", p.Name));
    }

    [Fact]
    public void TargetsThatCannotFitAreNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => SftBatch.Collate([new("go", "forward forward forward forward")], Tokenizer, 4));
        Assert.Contains("examples[0]", error.Message);
        // A long prompt is cut from the left instead.
        using var batch = SftBatch.Collate([new("go to the red ball go to the red ball", "left")], Tokenizer, 6);
        Assert.Equal(6, batch.Inputs.shape[1]);
        Assert.Equal(Tokenizer.Special.Bos, batch.Inputs[0, 0].item<long>());
    }
}
