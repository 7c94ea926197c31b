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
/// Roles (<c>textPositions</c> &gt; 0): a score alone cannot bind a colour to its object. In "put the grey box next to the
/// yellow ball" a grey ball scores like the grey box (grey and ball are both named), and neither says which object is to be
/// moved. With roles each (code, head) also carries where in the text it matched, r[v, h] = Σ_t softmax_t(s[v, h, t]) P[t],
/// a learned embedding P [T, R] of the packed text position (R = <see cref="RoleWidth"/>): the grey box's colour and type match
/// in the same phrase, the grey ball's in two, and the first phrase is the object to move. Positions carry no word, so
/// the compositional bias above is kept.
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
    private readonly Parameter? role_position;   // P [T, R]: the learned embedding of a packed text position (roles only)
    private readonly int _heads, _headSize, _channels, _features;

    /// <summary>Width R of the position embedding a code's match carries with roles.</summary>
    public const int RoleWidth = 8;

    /// <summary>Creates the module for cells of <paramref name="channels"/> channels and tokens of width <paramref name="width"/>.</summary>
    /// <param name="width">Token width C.</param>
    /// <param name="heads">Heads H.</param>
    /// <param name="channels">Channels Ch of a cell's code.</param>
    /// <param name="rng">Initialisation stream.</param>
    /// <param name="textPositions">Packed text positions T the role embedding covers; 0 turns roles off (scores only).</param>
    public CellTextMatching(int width, int heads, int channels, Environments.Rng rng, int textPositions = 0) : base(nameof(CellTextMatching))
    {
        if (width % heads != 0) throw new ArgumentException($"Cell–text matching width {width} must be a multiple of the head count {heads}.");
        ArgumentOutOfRangeException.ThrowIfNegative(textPositions);
        (_heads, _headSize, _channels) = (heads, width / heads, channels);
        _features = textPositions > 0 ? 1 + RoleWidth : 1;
        q_proj = nn.Linear(width, width, hasBias: false);
        k_proj = nn.Linear(width, width, hasBias: false);
        ln_text = nn.LayerNorm(width);
        out_proj = nn.Linear(channels * heads * _features, width);
        foreach (var layer in new[] { q_proj, k_proj, out_proj }) Networks.Init.Linear(layer, rng, null);
        if (textPositions > 0)
        {
            // Unit-variance rows: the softmax-weighted mean of a few of them is what the out projection reads.
            var init = new float[textPositions * RoleWidth];
            for (int i = 0; i < init.Length; i++) init[i] = (float)rng.NextNormal();
            role_position = new Parameter(tensor(init, [textPositions, RoleWidth]));
        }
        RegisterComponents();
    }

    /// <summary>Whether each code's match also says where in the text it matched.</summary>
    public bool Roles => role_position is not null;

    /// <summary>Code scores per observation: <see cref="CodeScores"/>' [B, V·H·F] for a code table of <paramref name="codes"/> rows (F = 1, or 1 + R with roles).</summary>
    public int ScoreWidth(long codes) => (int)codes * _heads * _features;

    /// <summary>
    /// The best match of every code over the real text tokens, per head: [B, V·H·F] (code-major, then head; F = 1, or with
    /// roles the score followed by where it matched, [1 + R]), a function of the text and the weights alone — the part an
    /// acting cache can keep per mission. <paramref name="codeTable"/> [V, C]; text tokens <paramref name="text"/> [B, T, C]
    /// with mask bool [B, T] (true = real token; every row needs one).
    /// </summary>
    public Tensor CodeScores(Tensor codeTable, Tensor text, Tensor? textMask)
    {
        long b = text.shape[0], t = text.shape[1], v = codeTable.shape[0];
        var q = q_proj.forward(codeTable).view(v, _heads, _headSize).transpose(0, 1);                    // [H, V, d]
        var k = k_proj.forward(ln_text.forward(text)).view(b, t, _heads, _headSize).permute(0, 2, 3, 1);  // [B, H, d, T]
        var scores = q.unsqueeze(0).matmul(k).mul(1.0 / Math.Sqrt(_headSize));                         // [B, H, V, T]
        if (textMask is not null) scores = scores.masked_fill(textMask.view(b, 1, 1, t).logical_not(), double.NegativeInfinity);
        var best = scores.amax([-1]);                                                                   // [B, H, V]
        if (role_position is null) return best.transpose(1, 2).reshape(b, v * _heads);                  // [B, V·H]
        if (t > role_position.shape[0])
            throw new ArgumentException($"Cell–text roles cover {role_position.shape[0]} text positions; the packed text has {t}.");
        // Where each code matched: the softmax over the real tokens (pads weigh 0) of its scores, times P [T, R].
        var where = scores.softmax(-1).matmul(role_position.narrow(0, 0, t));                            // [B, H, V, R]
        return cat([best.unsqueeze(-1), where], -1).transpose(1, 2).reshape(b, v * _heads * _features); // [B, V·H·(1 + R)]
    }

    /// <summary>
    /// The feature per cell, [B, N, C], from <see cref="CodeScores"/>' <paramref name="scores"/> [B, V·H·F] and each cell's codes
    /// <paramref name="codes"/> (int64 [B, N, Ch], rows of the code table): each cell gathers its codes' scores, [Ch·H·F], and
    /// a linear map turns them into the feature.
    /// </summary>
    public Tensor Cells(Tensor codes, Tensor scores)
    {
        long b = codes.shape[0], n = codes.shape[1];
        int perCode = _heads * _features;
        var perCell = scores.view(b, -1, perCode)                                                       // [B, V, H·F]
            .gather(1, codes.view(b, n * _channels, 1).expand(-1, -1, perCode))                         // [B, N·Ch, H·F]
            .reshape(b, n, _channels * perCode);
        return out_proj.forward(perCell);                                                               // [B, N, C]
    }

    /// <summary>
    /// The feature per cell, [B, N, C], for the grid's codes <paramref name="codes"/> (int64 [B, N, Ch], indices into
    /// <paramref name="codeTable"/> [V, C]) and the text tokens <paramref name="text"/> [B, T, C] (mask bool [B, T],
    /// true = real token; every row needs one): <see cref="Cells"/> of <see cref="CodeScores"/>.
    /// </summary>
    public Tensor forward(Tensor codes, Tensor codeTable, Tensor text, Tensor? textMask) => Cells(codes, CodeScores(codeTable, text, textMask));
}
