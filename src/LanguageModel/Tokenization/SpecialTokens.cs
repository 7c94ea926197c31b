namespace RLAgents.LanguageModel.Tokenization;

/// <summary>The special-token strings RLAgents uses. Every tokenizer has all of them.</summary>
public static class SpecialTokens
{
    /// <summary>Padding; positions holding it are masked out of attention and losses.</summary>
    public const string Pad = "<pad>";
    /// <summary>Beginning of a sequence.</summary>
    public const string Bos = "<bos>";
    /// <summary>End of a sequence (also the document separator in pretraining).</summary>
    public const string Eos = "<eos>";
    /// <summary>Separator between segments, e.g. prompt and target.</summary>
    public const string Sep = "<sep>";
    /// <summary>Unknown word (word-level tokenizer only needs it; kept everywhere for a uniform id table).</summary>
    public const string Unk = "<unk>";
    /// <summary>Marks the start of image embeddings in a multimodal sequence.</summary>
    public const string Image = "<img>";
    /// <summary>Marks the start of text in a multimodal sequence.</summary>
    public const string Text = "<txt>";
    /// <summary>Marks the start of a vector observation in a multimodal sequence.</summary>
    public const string Vector = "<vec>";

    /// <summary>All special tokens in their fixed order (the order their ids are assigned in).</summary>
    public static IReadOnlyList<string> All { get; } = [Pad, Bos, Eos, Sep, Unk, Image, Text, Vector];
}

/// <summary>Ids of the special tokens in one vocabulary.</summary>
/// <param name="Pad">Id of <see cref="SpecialTokens.Pad"/>.</param>
/// <param name="Bos">Id of <see cref="SpecialTokens.Bos"/>.</param>
/// <param name="Eos">Id of <see cref="SpecialTokens.Eos"/>.</param>
/// <param name="Sep">Id of <see cref="SpecialTokens.Sep"/>.</param>
/// <param name="Unk">Id of <see cref="SpecialTokens.Unk"/>.</param>
/// <param name="Image">Id of <see cref="SpecialTokens.Image"/>.</param>
/// <param name="Text">Id of <see cref="SpecialTokens.Text"/>.</param>
/// <param name="Vector">Id of <see cref="SpecialTokens.Vector"/>.</param>
public sealed record SpecialTokenIds(int Pad, int Bos, int Eos, int Sep, int Unk, int Image, int Text, int Vector)
{
    /// <summary>Looks up every special token in <paramref name="vocab"/>; a missing one is an error naming it.</summary>
    public static SpecialTokenIds From(IReadOnlyDictionary<string, int> vocab, string source)
    {
        int Id(string token) => vocab.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException($"{source}: special token '{token}' is missing from the vocabulary.");
        return new(Id(SpecialTokens.Pad), Id(SpecialTokens.Bos), Id(SpecialTokens.Eos), Id(SpecialTokens.Sep),
            Id(SpecialTokens.Unk), Id(SpecialTokens.Image), Id(SpecialTokens.Text), Id(SpecialTokens.Vector));
    }

    /// <summary>True if <paramref name="id"/> is one of the special ids.</summary>
    public bool Contains(int id) =>
        id == Pad || id == Bos || id == Eos || id == Sep || id == Unk || id == Image || id == Text || id == Vector;
}
