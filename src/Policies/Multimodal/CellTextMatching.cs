using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// How strongly each symbolic cell's values are mentioned by the text: for every code v of the grid's channels
/// (e.g. Minigrid's "ball", "red", "open"), per head h, the best match over the real text tokens,
/// m[v, h] = max_t (W_q e_v)_h · (W_k ln(t))_h / √d; each cell gathers the scores of its own codes, one per
/// channel and head, [Ch·H], and a linear map turns them into a feature [C] added to the cell's token.
/// <para>
/// Why scores and not attended values: a score says "this cell's colour is mentioned" without saying which colour,
/// so a cell whose colour and type are each mentioned looks the same to the layers above whether or not that
/// colour–type pair was ever a target in training. That is the compositional bias held-out compositions need
/// ("go to the red ball" when training only ever sent the agent to red keys and blue balls); an attended value
/// would carry the words' identities, and the layers above could learn the pair as a whole. The cells' own
/// tokens are unchanged, so nothing the fusion could do before is lost.
/// </para>
/// <para>
/// Cost: the scores are computed per code (the grid's distinct codes, ~20 for Minigrid), not per cell:
/// [B, H, V, T] products, then one gather per cell and channel.
/// </para>
/// </summary>
public sealed partial class CellTextMatching : nn.Module
{
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly LayerNorm ln_text;
    private readonly Linear out_proj;
    private readonly int _heads, _headSize, _channels;

    /// <summary>Creates the module for cells of <paramref name="channels"/> channels and tokens of width <paramref name="width"/>.</summary>
    public CellTextMatching(int width, int heads, int channels, Environments.Rng rng) : base(nameof(CellTextMatching))
    {
        if (width % heads != 0) throw new ArgumentException($"Cell–text matching width {width} must be a multiple of the head count {heads}.");
        (_heads, _headSize, _channels) = (heads, width / heads, channels);
        q_proj = nn.Linear(width, width, hasBias: false);
        k_proj = nn.Linear(width, width, hasBias: false);
        ln_text = nn.LayerNorm(width);
        out_proj = nn.Linear(channels * heads, width);
        foreach (var layer in new[] { q_proj, k_proj, out_proj }) Networks.Init.Linear(layer, rng, null);
        RegisterComponents();
    }

    /// <summary>Code scores per observation: <see cref="CodeScores"/>' [B, V·H] for a code table of <paramref name="codes"/> rows.</summary>
    public int ScoreWidth(long codes) => (int)codes * _heads;

    /// <summary>
    /// The best match of every code over the real text tokens, per head: [B, V·H] (code-major), a function of the text and
    /// the weights alone — the part an acting cache can keep per mission. <paramref name="codeTable"/> [V, C]; text tokens
    /// <paramref name="text"/> [B, T, C] with mask bool [B, T] (true = real token; every row needs one).
    /// </summary>
    public Tensor CodeScores(Tensor codeTable, Tensor text, Tensor? textMask)
    {
        long b = text.shape[0], t = text.shape[1], v = codeTable.shape[0];
        var q = q_proj.forward(codeTable).view(v, _heads, _headSize).transpose(0, 1);                    // [H, V, d]
        var k = k_proj.forward(ln_text.forward(text)).view(b, t, _heads, _headSize).permute(0, 2, 3, 1);  // [B, H, d, T]
        var scores = q.unsqueeze(0).matmul(k).mul(1.0 / Math.Sqrt(_headSize));                         // [B, H, V, T]
        if (textMask is not null) scores = scores.masked_fill(textMask.view(b, 1, 1, t).logical_not(), double.NegativeInfinity);
        return scores.amax([-1]).transpose(1, 2).reshape(b, v * _heads);                                // [B, V·H]
    }

    /// <summary>
    /// The feature per cell, [B, N, C], from <see cref="CodeScores"/>' <paramref name="scores"/> [B, V·H] and each cell's codes
    /// <paramref name="codes"/> (int64 [B, N, Ch], rows of the code table): each cell gathers its codes' scores, [Ch·H], and
    /// a linear map turns them into the feature.
    /// </summary>
    public Tensor Cells(Tensor codes, Tensor scores)
    {
        long b = codes.shape[0], n = codes.shape[1];
        var perCell = scores.view(b, -1, _heads)                                                        // [B, V, H]
            .gather(1, codes.view(b, n * _channels, 1).expand(-1, -1, _heads))                          // [B, N·Ch, H]
            .reshape(b, n, _channels * _heads);
        return out_proj.forward(perCell);                                                               // [B, N, C]
    }

    /// <summary>
    /// The feature per cell, [B, N, C], for the grid's codes <paramref name="codes"/> (int64 [B, N, Ch], indices into
    /// <paramref name="codeTable"/> [V, C]) and the text tokens <paramref name="text"/> [B, T, C] (mask bool [B, T],
    /// true = real token; every row needs one): <see cref="Cells"/> of <see cref="CodeScores"/>.
    /// </summary>
    public Tensor forward(Tensor codes, Tensor codeTable, Tensor text, Tensor? textMask) => Cells(codes, CodeScores(codeTable, text, textMask));
}
