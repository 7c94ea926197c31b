using System.Runtime.InteropServices;
using RLAgents.Environments;
using RLAgents.Environments.Wrappers;
using RLAgents.LanguageModel.Model;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// The multimodal Transformer state estimator: observations → tokens (one encoder per modality,
/// in the space's fixed order: image cells with 2-D positions, vectors and discrete values as
/// single tokens, text through the backbone's own token embedding) plus a modality-type embedding
/// per token and a learned [CLS] token; the GPT backbone runs with bidirectional attention and a
/// padding mask; <see cref="FusionMode"/> decides how the modalities meet. Output: state [B, D].
/// With a pretrained text encoder (<see cref="PretrainedTextTokens"/>), text arrives as strings and its tokens are
/// BERT's states projected to the backbone's width: early fusion puts them where the text tokens were in
/// [CLS, image cells, vectors, text]; cross-attention runs [CLS, projected text] through the backbone before
/// attending to the other modalities; late fusion pools the text with the encoder's own pooling instead of
/// running it through the backbone.
/// With memory in the observation (<see cref="ObservationHistoryLayout"/>: <c>x_history</c> and
/// <c>history_mask</c>), the previous K steps become K more tokens (<see cref="HistoryTokenEncoder"/>)
/// that take part like any non-text modality, and rows before the episode start are masked out of
/// attention (early and cross-attention fusion) and out of pooling (late fusion).
/// </summary>
public sealed partial class MultimodalStateEstimator : StateEstimator
{
    private readonly GptModel backbone;
    private readonly ModuleList<TokenEncoder> encoders;
    private readonly Embedding modality_type;
    private readonly Parameter cls;
    private readonly CrossAttentionBlock? cross;
    private readonly LayerNorm? ln_cross;
    private readonly ModuleList<Linear>? fusion;
    private readonly HistoryTokenEncoder? memory;
    private readonly PretrainedTextTokens? text;
    private readonly ModuleList<CellTextMatching>? matching;
    private readonly int[] _matchingOf = [];   // modality → its CellTextMatching index, −1 for none
    private readonly Tensor modalityIds;
    private readonly int[] _encoderOf;   // modality → encoder index, −1 for text, −2 for memory (history or mask)
    private readonly FusionMode _fusion;
    private readonly int _padId, _textTokens, _stateSize;
    private readonly ActingCache? _cache;
    private readonly bool[] _keyed;      // modality → its states are cached per key (late fusion: text ids, discrete values)
    private readonly int _textKeyWidth;  // Σ L_m over text modalities: a cross-attention text key
    private long[] _keys = [];           // cross-attention keys of several text modalities, [B, Σ L_m]
    private readonly bool _pretrainedCached; // cross-attention over a pretrained text encoder whose summary is cached per text
    private readonly int _summaryWidth;      // C + Σ_i V_i·H: the CLS query and every matching module's code scores

    /// <summary>
    /// Builds the estimator for <paramref name="space"/> around <paramref name="backboneModel"/>;
    /// text modalities arrive as token ids [B, <see cref="MultimodalOptions.MaxTextTokens"/>] padded with <paramref name="padId"/>,
    /// or, with <paramref name="textEncoder"/> (owned from then on), as strings that it encodes.
    /// </summary>
    public MultimodalStateEstimator(ObservationSpace space, MultimodalOptions options, GptModel backboneModel, int padId, Rng rng,
        PretrainedTextTokens? textEncoder = null)
        : base(nameof(MultimodalStateEstimator))
    {
        Space = space;
        backbone = backboneModel;
        text = textEncoder;
        _fusion = options.Fusion;
        _padId = padId;
        _textTokens = textEncoder?.MaxTokens ?? options.MaxTextTokens;
        int width = backboneModel.Config.NEmbd;
        encoders = new ModuleList<TokenEncoder>();
        _encoderOf = new int[space.Count];
        int spatialTokens = 0, otherTokens = 0, texts = 0;
        var layout = ObservationHistoryLayout.Find(space);
        int memoryTokens = layout?.Steps ?? 0;
        for (int m = 0; m < space.Count; m++)
        {
            if (layout is not null && layout.IsMemory(m)) { _encoderOf[m] = -2; continue; }
            if (space[m].Space is TextSpace) { _encoderOf[m] = -1; texts++; continue; }
            var encoder = TokenEncoder.Create(space[m], width, rng, options.PatchSize);
            _encoderOf[m] = encoders.Count;
            encoders.Add(encoder);
            if (encoder.IsSpatial) spatialTokens += encoder.TokenCount; else otherTokens += encoder.TokenCount;
        }
        if (options.CellTextRoles && !options.CellTextMatching)
            throw new ArgumentException("policy.multimodal.cellTextRoles refines cell–text matching: set policy.multimodal.cellTextMatching too.");
        if (options.CellTextMatching)
        {
            if (_fusion == FusionMode.Late) throw new ArgumentException("policy.multimodal.cellTextMatching needs early or crossAttention fusion (late fusion pools each modality on its own, so cells never meet the text).");
            if (texts == 0) throw new ArgumentException($"policy.multimodal.cellTextMatching needs a text modality; {space} has none.");
            matching = new ModuleList<CellTextMatching>();
            _matchingOf = new int[space.Count];
            for (int m = 0; m < space.Count; m++)
            {
                _matchingOf[m] = -1;
                if (_encoderOf[m] >= 0 && encoders[_encoderOf[m]] is CellTokenEncoder grid)
                {
                    _matchingOf[m] = matching.Count;
                    matching.Add(new CellTextMatching(width, backboneModel.Config.NHead, grid.Channels, rng, options.CellTextRoles ? texts * _textTokens : 0));
                }
            }
            if (matching.Count == 0) throw new ArgumentException($"policy.multimodal.cellTextMatching needs a symbolic grid modality (uint8 H×W×channels of small codes); {space} has none.");
        }
        modality_type = nn.Embedding(space.Count, width);
        Init.Embedding(modality_type, rng);
        cls = new Parameter(tensor(Enumerable.Range(0, width).Select(_ => (float)(0.02 * rng.NextNormal())).ToArray(), [1, 1, width]));
        modalityIds = arange(space.Count, dtype: int64);
        if (layout is not null) memory = new HistoryTokenEncoder(layout, width, rng);

        int longest = _fusion switch
        {
            FusionMode.Early => 1 + spatialTokens + otherTokens + memoryTokens + texts * _textTokens,
            FusionMode.Late => Math.Max(Math.Max(spatialTokens, memoryTokens), Math.Max(_textTokens, 1)),
            _ => 1 + texts * _textTokens,
        };
        if (longest > backboneModel.Config.BlockSize)
            throw new ArgumentException($"{_fusion} fusion of {space} needs {longest} positions but the backbone's blockSize is {backboneModel.Config.BlockSize}.");
        SequenceLength = longest;

        switch (_fusion)
        {
            case FusionMode.Early:
                _stateSize = width;
                break;
            case FusionMode.CrossAttention:
                if (texts == 0) throw new ArgumentException($"CrossAttention fusion needs a text modality; {space} has none.");
                if (encoders.Count == 0) throw new ArgumentException($"CrossAttention fusion needs an image or vector modality; {space} has only text.");
                cross = new CrossAttentionBlock(width, backboneModel.Config.NHead, rng);
                ln_cross = nn.LayerNorm(width);
                _stateSize = width;
                break;
            default:
                fusion = new ModuleList<Linear>();
                // One pool per modality; the memory modalities pool together into one.
                int pools = _encoderOf.Count(e => e != -2) + (memory is null ? 0 : 1);
                int inWidth = width * pools;
                foreach (int h in options.FusionHiddenSizes)
                {
                    var layer = nn.Linear(inWidth, h);
                    Init.Linear(layer, rng, Math.Sqrt(2));
                    fusion.Add(layer);
                    inWidth = h;
                }
                _stateSize = inWidth;
                break;
        }
        RegisterComponents();

        // Keyed modalities: what they contribute is a function of a small key alone (cross-attention: [CLS, text] through
        // the backbone, keyed by all text ids; late fusion: each text's and each discrete value's pool). A batch computes
        // it once per distinct key, and acting caches it per key. Early fusion mixes text with the image in every layer.
        _keyed = new bool[space.Count];
        _textKeyWidth = texts * _textTokens;
        if (text is null && _fusion != FusionMode.Early)
            for (int m = 0; m < space.Count; m++)
                _keyed[m] = _encoderOf[m] == -1 || (_fusion == FusionMode.Late && _encoderOf[m] >= 0 && encoders[_encoderOf[m]] is DiscreteTokenEncoder);
        // Cross-attention's per-text part: the CLS query [C] and, with cell matching, every module's code scores [V_i·H].
        _summaryWidth = width;
        if (matching is not null)
            for (int m = 0; m < space.Count; m++)
                if (_matchingOf[m] >= 0) _summaryWidth += matching[_matchingOf[m]].ScoreWidth(((CellTokenEncoder)encoders[_encoderOf[m]]).CodeTable.shape[0]);
        // A pretrained encoder's text is a function of its strings too: cached per string while the weights that shape it
        // stay put — the projection and any adapters; a base that trains (full or top-layer fine-tuning) is too large to compare every step.
        _pretrainedCached = text is not null && _fusion == FusionMode.CrossAttention
            && text.FineTune is LanguageModel.Pretrained.TextEncoderFineTuning.Frozen or LanguageModel.Pretrained.TextEncoderFineTuning.Lora;
        if (options.ActingCache && (_keyed.Any(k => k) || _pretrainedCached))
        {
            var shaping = backbone.parameters().Concat(modality_type.parameters()).Append(cls).ToList();
            for (int m = 0; m < space.Count; m++)
                if (_keyed[m] && _encoderOf[m] >= 0) shaping.AddRange(encoders[_encoderOf[m]].parameters());
            if (_fusion == FusionMode.CrossAttention && matching is not null)
            {
                shaping.AddRange(matching.parameters());
                for (int m = 0; m < space.Count; m++) if (_matchingOf[m] >= 0) shaping.AddRange(encoders[_encoderOf[m]].parameters());
            }
            if (_pretrainedCached)
                shaping.AddRange(text!.named_parameters().Where(p => !text.ExternalTensors.Contains(p.name)).Select(p => p.parameter));
            _cache = new ActingCache(shaping, _fusion == FusionMode.Late ? space.Count : 1, _fusion == FusionMode.CrossAttention ? _summaryWidth : width);
        }
    }

    /// <summary>The observation layout read.</summary>
    public ObservationSpace Space { get; }

    /// <summary>The GPT backbone (shared by every modality).</summary>
    public GptModel Backbone => backbone;

    /// <summary>The pretrained text encoder, or null when text goes through the backbone's token embedding.</summary>
    public PretrainedTextTokens? TextEncoder => text;

    /// <summary>The fusion mode.</summary>
    public FusionMode Fusion => _fusion;

    /// <summary>Previous steps read as memory tokens (0 without memory).</summary>
    public int MemorySteps => memory?.Steps ?? 0;

    /// <summary>Longest sequence the backbone sees per observation.</summary>
    public int SequenceLength { get; }

    /// <inheritdoc />
    public override int StateSize => _stateSize;

    /// <inheritdoc />
    public override Tensor forward(ObservationInput input)
    {
        long b = input.Count;
        var types = modality_type.forward(modalityIds); // [M, C]
        bool readable = KeysReadable(input), cached = readable && Cached();
        if (_fusion == FusionMode.Late) return Late(input, types, readable, cached);
        var tokens = new Tensor[Space.Count];                   // each [B, n_m, C]
        var masks = new Tensor?[Space.Count];                   // text: bool [B, L], true = real token
        for (int m = 0; m < Space.Count; m++)
        {
            if (_encoderOf[m] >= 0) tokens[m] = encoders[_encoderOf[m]].forward(input[m]).add(types[m]);
            else if (_encoderOf[m] == -1 && !_keyed[m] && !_pretrainedCached)   // cached pretrained text is encoded in Summary, per distinct string
            {
                if (text is null) (tokens[m], masks[m]) = EmbedText(m, input[m], types);
                else
                {
                    var (encoded, encodedMask) = text.Tokens(input.RowTexts(m));
                    tokens[m] = encoded.add(types[m]);
                    masks[m] = encodedMask;
                }
            }
        }
        Tensor? queries = null;
        if (_fusion == FusionMode.CrossAttention)
        {
            // What the text alone decides, [B, C + S]: the backbone's output at CLS of [CLS, text] (the cross-attention
            // query) and each matching module's code scores; once per distinct text, per text from the cache while acting.
            var summary = Summary(input, tokens, masks, types, readable, cached, b);
            queries = summary.narrow(1, 0, backbone.Config.NEmbd);
            if (matching is not null) AddCellScores(input, tokens, summary);
        }
        else if (matching is not null) MatchCells(input, tokens, masks, types);
        // Memory: [B, K, C] tokens of the mask modality's type, bool [B, K] true = row of this episode.
        Tensor? memoryTokens = null, memoryMask = null;
        if (memory is not null)
        {
            memoryTokens = memory.forward(input).add(types[memory.MaskIndex]);
            memoryMask = memory.Mask(input);
        }
        var nonText = Enumerable.Range(0, Space.Count).Where(m => _encoderOf[m] >= 0).Select(m => tokens[m]).ToList();
        if (memoryTokens is not null) nonText.Add(memoryTokens);
        // Non-text tokens, memory last: [B, N (+ K), C] (null for a text-only space) and, with memory, their mask [B, N + K].
        var context = nonText.Count == 0 ? null : cat(nonText.ToArray(), 1);
        Tensor? contextMask = memoryMask is null ? null : cat([ones(b, context!.shape[1] - memoryMask.shape[1], dtype: @bool), memoryMask], 1);
        if (_fusion == FusionMode.CrossAttention) return Cross(queries!, context!, contextMask);
        var (textTokens, textMask) = PackText(tokens, masks);
        return Early(cls.expand(b, 1, cls.shape[2]), context, contextMask, textTokens, textMask, b);
    }

    /// <summary>
    /// Adds each symbolic grid's <see cref="CellTextMatching"/> feature to its cell tokens in <paramref name="tokens"/>, against
    /// all text modalities' tokens packed (the ones the forward already has; keyed text is embedded here, a table lookup).
    /// </summary>
    private void MatchCells(ObservationInput input, Tensor[] tokens, Tensor?[] masks, Tensor types)
    {
        var textTokens = new Tensor[Space.Count];
        var textMasks = new Tensor?[Space.Count];
        for (int m = 0; m < Space.Count; m++)
            if (_encoderOf[m] == -1) (textTokens[m], textMasks[m]) = tokens[m] is null ? EmbedText(m, input[m], types) : (tokens[m], masks[m]);
        var (text, textMask) = PackText(textTokens, textMasks);                                       // [B, Σ L_m, C], [B, Σ L_m]
        for (int m = 0; m < Space.Count; m++)
        {
            if (_matchingOf[m] < 0) continue;
            var grid = (CellTokenEncoder)encoders[_encoderOf[m]];
            tokens[m] = tokens[m].add(matching![_matchingOf[m]].forward(grid.Codes(input[m]), grid.CodeTable, text!, textMask));  // [B, H·W, C]
        }
    }

    /// <summary>True when every keyed modality's tensor can be read as keys in place: int64, contiguous, on the CPU.</summary>
    private bool KeysReadable(ObservationInput input)
    {
        for (int m = 0; m < Space.Count; m++)
            if (_keyed[m] && (input[m].device_type != DeviceType.CPU || !input[m].is_contiguous() || input[m].dtype != ScalarType.Int64)) return false;
        return true;
    }

    /// <summary>True when this forward may use the acting cache: no gradients, deterministic layers, weights unchanged or the cache emptied.</summary>
    private bool Cached() => _cache is not null && !is_grad_enabled() && !(training && backbone.Config.Dropout > 0) && _cache.Validate();

    /// <summary>
    /// <paramref name="compute"/> of the rows of <paramref name="inputs"/> (each [B, …], null entries skipped) with distinct
    /// keys (<paramref name="keys"/>, [B, <paramref name="width"/>] row-major) only, gathered back to every row: [B, C].
    /// Differentiable: the gather's backward sums each row's gradient into its key's.
    /// </summary>
    private static Tensor PerDistinctKey(ReadOnlySpan<long> keys, int width, Tensor?[] inputs, Func<Tensor?[], Tensor> compute)
    {
        var (first, inverse) = DistinctKeys.Find(keys, width);
        if (first.Length == inverse.Length) return compute(inputs);   // nothing repeats
        var rows = tensor(first);
        var distinct = compute([.. inputs.Select(x => x?.index_select(0, rows))]);  // [U, C]
        return distinct.index_select(0, tensor(inverse));
    }

    /// <summary>Text modality <paramref name="m"/>'s token ids [B, L] → tokens [B, L, C] (type embedding added) and mask bool [B, L].</summary>
    private (Tensor Tokens, Tensor Mask) EmbedText(int m, Tensor ids, Tensor types) => (backbone.EmbedTokens(ids).add(types[m]), ids.ne(_padId));

    /// <summary>
    /// Cross-attention's per-text summary [B, C + S] of every row (see <see cref="TextSummary(Tensor[], Tensor?[], long)"/>): from
    /// the acting cache per text key while acting, once per distinct text while training.
    /// </summary>
    private Tensor Summary(ObservationInput input, Tensor[] tokens, Tensor?[] masks, Tensor types, bool readable, bool cached, long b)
    {
        if (_keyed.Any(k => k))
        {
            var ids = new Tensor?[Space.Count];
            for (int m = 0; m < Space.Count; m++) if (_keyed[m]) ids[m] = input[m];
            return cached ? _cache!.Lookup(0, TextKeys(input), _textKeyWidth, key => TextSummary(KeyIds(key), types))
                : readable ? PerDistinctKey(TextKeys(input), _textKeyWidth, ids, rows => TextSummary(rows, types))
                : TextSummary(ids, types);
        }
        if (!_pretrainedCached) return TextSummary(tokens, masks, b);
        // A pretrained encoder's strings: each row's texts (one per text modality) keyed by two 64-bit hashes each, the
        // strings of this batch kept alongside so a missing key can be encoded from them.
        var texts = Enumerable.Range(0, Space.Count).Where(m => _encoderOf[m] == -1).Select(m => (Modality: m, Rows: input.RowTexts(m))).ToArray();
        int width = 2 * texts.Length;
        var keys = new long[b * width];
        var byKey = new Dictionary<long[], string[]>(ActingCache.KeyComparer.Instance);
        for (int i = 0; i < b; i++)
        {
            for (int t = 0; t < texts.Length; t++)
                (keys[i * width + 2 * t], keys[i * width + 2 * t + 1]) = TextHash(texts[t].Rows[i]);
            byKey.TryAdd(keys.AsSpan(i * width, width).ToArray(), [.. texts.Select(t => t.Rows[i])]);
        }
        if (cached) return _cache!.Lookup(0, keys, width, key => PretrainedSummary(texts.Select(t => t.Modality).ToArray(), [byKey[key]], types));
        var (first, inverse) = DistinctKeys.Find(keys, width);
        var distinct = PretrainedSummary(texts.Select(t => t.Modality).ToArray(), [.. first.Select(i => texts.Select(t => t.Rows[i]).ToArray())], types);
        return first.Length == inverse.Length ? distinct : distinct.index_select(0, tensor(inverse));
    }

    /// <summary><see cref="TextSummary(Tensor[], Tensor?[], long)"/> of rows of strings (each row: one string per text modality in <paramref name="modalities"/>), [U, C + S].</summary>
    private Tensor PretrainedSummary(int[] modalities, string[][] rows, Tensor types)
    {
        var tokens = new Tensor[Space.Count];
        var masks = new Tensor?[Space.Count];
        for (int t = 0; t < modalities.Length; t++)
        {
            var (encoded, mask) = text!.Tokens([.. rows.Select(r => r[t])]);
            (tokens[modalities[t]], masks[modalities[t]]) = (encoded.add(types[modalities[t]]), mask);
        }
        return TextSummary(tokens, masks, rows.Length);
    }

    /// <summary>Two independent 64-bit FNV-1a hashes of <paramref name="s"/> (forwards and backwards, different offsets): a 128-bit key.</summary>
    private static (long, long) TextHash(string s)
    {
        ulong a = 14695981039346656037UL, z = 0x9E3779B97F4A7C15UL;
        for (int i = 0; i < s.Length; i++)
        {
            a = (a ^ s[i]) * 1099511628211UL;
            z = (z ^ s[s.Length - 1 - i]) * 1099511628211UL;
        }
        return (unchecked((long)a), unchecked((long)(z ^ (ulong)s.Length)));
    }

    /// <summary>
    /// What the text decides on its own, [B, C + S]: the backbone's output at CLS of [CLS, packed text] for the text modalities'
    /// tokens and masks (indexed by modality), then, with cell matching, each module's code scores against the packed text.
    /// </summary>
    private Tensor TextSummary(Tensor[] tokens, Tensor?[] masks, long b)
    {
        var (text, textMask) = PackText(tokens, masks);
        var sequence = cat([cls.expand(b, 1, cls.shape[2]), text!], 1);            // [B, 1 + Σ L_m, C]
        var mask = cat([ones(b, 1, dtype: @bool), textMask!], 1);
        var query = Run(sequence, mask, firstPositions: 1).select(1, 0);             // [B, C]
        if (matching is null) return query;
        var parts = new List<Tensor> { query };
        for (int m = 0; m < Space.Count; m++)
            if (_matchingOf[m] >= 0) parts.Add(matching[_matchingOf[m]].CodeScores(((CellTokenEncoder)encoders[_encoderOf[m]]).CodeTable, text!, textMask));
        return cat(parts, 1);
    }

    /// <summary><see cref="TextSummary(Tensor[], Tensor?[], long)"/> of token ids, one int64 [U, L_m] per text modality (others null).</summary>
    private Tensor TextSummary(Tensor?[] ids, Tensor types)
    {
        var tokens = new Tensor[Space.Count];
        var masks = new Tensor?[Space.Count];
        for (int m = 0; m < Space.Count; m++)
            if (ids[m] is { } x) (tokens[m], masks[m]) = EmbedText(m, x, types);
        return TextSummary(tokens, masks, ids.First(x => x is not null)!.shape[0]);
    }

    /// <summary>Adds each symbolic grid's matching feature to its cell tokens, from the code scores in <paramref name="summary"/> [B, C + S].</summary>
    private void AddCellScores(ObservationInput input, Tensor[] tokens, Tensor summary)
    {
        long offset = backbone.Config.NEmbd;
        for (int m = 0; m < Space.Count; m++)
        {
            if (_matchingOf[m] < 0) continue;
            var grid = (CellTokenEncoder)encoders[_encoderOf[m]];
            var module = matching![_matchingOf[m]];
            int width = module.ScoreWidth(grid.CodeTable.shape[0]);
            tokens[m] = tokens[m].add(module.Cells(grid.Codes(input[m]), summary.narrow(1, offset, width)));  // [B, H·W, C]
            offset += width;
        }
    }

    /// <summary>Each row's text keys: the token ids of every text modality in order, [B, Σ L_m] row-major (the input's own memory for one text modality).</summary>
    private ReadOnlySpan<long> TextKeys(ObservationInput input)
    {
        var texts = Enumerable.Range(0, Space.Count).Where(m => _encoderOf[m] == -1).ToArray();
        if (texts.Length == 1) return MemoryMarshal.Cast<byte, long>(input[texts[0]].bytes);
        int b = (int)input.Count, offset = 0;
        if (_keys.Length < b * _textKeyWidth) _keys = new long[b * _textKeyWidth];
        foreach (int m in texts)
        {
            int l = (int)input[m].shape[1];
            var ids = MemoryMarshal.Cast<byte, long>(input[m].bytes);
            for (int i = 0; i < b; i++) ids.Slice(i * l, l).CopyTo(_keys.AsSpan(i * _textKeyWidth + offset, l));
            offset += l;
        }
        return _keys.AsSpan(0, b * _textKeyWidth);
    }

    /// <summary>One row's text key back to its token ids, int64 [1, L_m] per text modality (null elsewhere).</summary>
    private Tensor?[] KeyIds(long[] key)
    {
        var ids = new Tensor?[Space.Count];
        int offset = 0;
        for (int m = 0; m < Space.Count; m++)
        {
            if (_encoderOf[m] != -1) continue;
            ids[m] = tensor(key.AsSpan(offset, _textTokens).ToArray(), [1, _textTokens]);
            offset += _textTokens;
        }
        return ids;
    }

    /// <summary>
    /// Every text modality's tokens (type embedding added) in order, real tokens packed to the front and pads to
    /// the end of the row (a stable sort on "is pad"), so no pad shifts the positions of later text: [B, Σ L_m, C]
    /// with its mask [B, Σ L_m], or nulls without text.
    /// </summary>
    private (Tensor? Tokens, Tensor? Mask) PackText(Tensor[] tokens, Tensor?[] masks)
    {
        var texts = Enumerable.Range(0, Space.Count).Where(m => _encoderOf[m] == -1).ToArray();
        if (texts.Length == 0) return (null, null);
        var all = cat(texts.Select(m => tokens[m]).ToArray(), 1);                                     // [B, Σ L_m, C]
        var mask = cat(texts.Select(m => masks[m]!).ToArray(), 1);                                   // [B, Σ L_m]
        var order = mask.logical_not().to_type(ScalarType.Int32).sort(1, stable: true).Indices;
        var packed = all.gather(1, order.unsqueeze(-1).expand(-1, -1, all.shape[2]));
        return (packed, mask.gather(1, order));
    }

    private Tensor Early(Tensor clsToken, Tensor? context, Tensor? contextMask, Tensor? text, Tensor? textMask, long b)
    {
        // [CLS, image cells, vectors, memory, packed text]: text last, so its padding sits at the very end.
        var parts = new List<Tensor> { clsToken };
        var maskParts = new List<Tensor> { ones(b, 1, dtype: @bool) };
        if (context is not null)
        {
            parts.Add(context);
            maskParts.Add(contextMask ?? ones(b, context.shape[1], dtype: @bool));
        }
        if (text is not null)
        {
            parts.Add(text);
            maskParts.Add(textMask!);
        }
        var sequence = cat(parts.ToArray(), 1); // [B, 1 + Σ n_m, C]
        // No mask at all when nothing is padded (the backbone's fused attention path).
        var mask = textMask is null && contextMask is null ? null : cat(maskParts.ToArray(), 1);
        return Run(sequence, mask, firstPositions: 1).select(1, 0);
    }

    private Tensor Late(ObservationInput input, Tensor types, bool readable, bool cached)
    {
        var pooled = new List<Tensor>();
        for (int m = 0; m < Space.Count; m++)
        {
            if (_encoderOf[m] == -2) continue;
            int mm = m;
            // Text ids and discrete values pool to a function of the value alone: per key from the cache while acting.
            if (cached && _keyed[m]) pooled.Add(_cache!.Lookup(m, MemoryMarshal.Cast<byte, long>(input[m].bytes), KeyWidth(m),
                key => PoolModality(mm, _encoderOf[mm] >= 0 ? tensor(key, [1]) : tensor(key, [1, key.Length]), types)));
            else if (readable && _keyed[m]) pooled.Add(PerDistinctKey(MemoryMarshal.Cast<byte, long>(input[m].bytes), KeyWidth(m), [input[m]],
                rows => PoolModality(mm, rows[0]!, types)));
            // A pretrained encoder's text is already one pooled, projected vector per row.
            else if (_encoderOf[m] == -1 && text is not null) pooled.Add(text.Pooled(input.RowTexts(m)));
            else pooled.Add(PoolModality(m, input[m], types));
        }
        if (memory is not null) pooled.Add(Pool(memory.forward(input).add(types[memory.MaskIndex]), memory.Mask(input)));
        var x = cat(pooled, 1); // [B, pools·C]
        foreach (var layer in fusion!) x = layer.forward(x).tanh();
        return x;
    }

    /// <summary>Modality <paramref name="m"/>'s tensor (not pretrained text) through its encoder (token ids: the backbone's embedding) and the backbone, pooled: [B, C].</summary>
    private Tensor PoolModality(int m, Tensor x, Tensor types)
    {
        if (_encoderOf[m] >= 0) return Pool(encoders[_encoderOf[m]].forward(x).add(types[m]), null);
        var (tokens, mask) = EmbedText(m, x, types);
        return Pool(tokens, mask);
    }

    private int KeyWidth(int m) => _encoderOf[m] == -1 ? _textTokens : 1;

    private Tensor Pool(Tensor tokens, Tensor? mask)
    {
        var hidden = Run(tokens, mask); // [B, n, C]
        if (mask is null) return hidden.mean([1]);
        // Masked mean: padded positions (and history rows before the episode) contribute nothing; an empty row pools to zeros.
        var weights = mask.to_type(ScalarType.Float32).unsqueeze(-1);
        return hidden.mul(weights).sum(1).div(weights.sum(1).clamp_min(1));
    }

    /// <summary>
    /// The CLS query [B, C] (the backbone's output at CLS of [CLS, text]) attends to the context: only the CLS position
    /// of the text sequence is read out, and the block treats query positions independently, so no other text position
    /// goes through it.
    /// </summary>
    private Tensor Cross(Tensor queries, Tensor context, Tensor? contextMask)
    {
        // context [B, image cells + vectors (+ memory), C]; masked memory rows are not attended.
        var fused = cross!.forward(queries.unsqueeze(1), context, contextMask);     // [B, 1, C]
        return ln_cross!.forward(fused.squeeze(1));
    }

    /// <summary>The backbone, bidirectional, on embeddings [B, T, C] with a padding mask: hidden states [B, T, C], or [B, N, C] of the first <paramref name="firstPositions"/> (a CLS readout: the last block then computes its queries and MLP for those alone).</summary>
    private Tensor Run(Tensor embeddings, Tensor? mask, int? firstPositions = null) =>
        backbone.forward(new GptInput(Embeddings: embeddings, AttentionMask: mask, Causal: false, ComputeLogits: false, FirstPositions: firstPositions)).HiddenStates;

    /// <summary>The acting cache (<see cref="MultimodalOptions.ActingCache"/>), or null when nothing is cached (early fusion, a pretrained text encoder, switched off).</summary>
    internal ActingCache? ActingCache => _cache;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _cache?.Dispose();
        base.Dispose(disposing);
    }
}
