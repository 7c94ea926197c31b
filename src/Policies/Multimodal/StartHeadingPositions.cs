using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Wrappers;
using RLAgents.LanguageModel.Onnx;
using RLAgents.Policies.Encoding;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// Where each token of an egocentric grid lies relative to the heading the episode started with: a learned embedding
/// per (turn, token), added to the token, where the turn is how far the agent's heading has turned since the episode's
/// first step, (heading_t − heading_0) mod N. The first heading comes from anchored memory (row K − 1 of the heading's
/// history), so this reads nothing the observations do not already hold.
/// <para>
/// Why: BabyAI resolves locations against the starting pose ("the ball on your left" is left of where the agent
/// stood at the start). In cross-attention fusion the query comes from the text alone, so which cells it picks cannot
/// depend on how far the agent has since turned unless the cells carry it themselves; with the embedding, "left of
/// the start" is a direction in every cell's key at every turn. Translation is not tracked: the agent's moves after
/// the start shift the half-planes by a few cells, which the memory tokens can still correct.
/// </para>
/// Input: the turn, int64 [B] in [0, N). Output: [B, T, C].
/// </summary>
public sealed partial class StartHeadingPositions : nn.Module<Tensor, Tensor>
{
    private readonly Parameter table;     // [N, T, C]; zeros, so a new agent starts as one without it
    private readonly int _heading, _history, _mask, _row, _headings;
    private readonly long _start;

    private StartHeadingPositions(int heading, int history, int mask, int row, DiscreteSpace space, long tokens, int width)
        : base(nameof(StartHeadingPositions))
    {
        (_heading, _history, _mask, _row, _headings, _start) = (heading, history, mask, row, space.N, space.Start);
        table = new Parameter(zeros(space.N, tokens, width));
        RegisterComponents();
    }

    /// <summary>
    /// The embedding for a grid of <paramref name="tokens"/> tokens of width <paramref name="width"/>, turning with the
    /// discrete modality <paramref name="headingName"/> of <paramref name="space"/>; its history must be kept in anchored
    /// memory. Bad choices throw <see cref="ConfigurationException"/> on <c>policy.multimodal.startHeading</c>.
    /// </summary>
    public static StartHeadingPositions Create(ObservationSpace space, string headingName, long tokens, int width)
    {
        const string key = "policy.multimodal.startHeading";
        if (!space.TryGetIndex(headingName, out int heading))
            throw new ConfigurationException(key, $"no modality '{headingName}' in {space}");
        if (space[heading].Space is not DiscreteSpace discrete)
            throw new ConfigurationException(key, $"'{headingName}' is {space[heading].Space}; the heading must be a discrete modality");
        var layout = ObservationHistoryLayout.Find(space);
        if (layout is null || !layout.Anchored)
            throw new ConfigurationException(key, $"the start heading is read from anchored memory: set env.memory with \"anchored\": true and '{headingName}' in its modalities");
        var entry = layout.Entries.FirstOrDefault(e => e.BaseIndex == heading)
            ?? throw new ConfigurationException(key, $"'{headingName}' is not kept in env.memory.modalities, so its first value is not in the observation");
        return new StartHeadingPositions(heading, entry.HistoryIndex, layout.MaskIndex, layout.Steps - 1, discrete, tokens, width);
    }

    /// <summary>How far the heading has turned since the episode's first step, int64 [B] (0 on the first step itself).</summary>
    public Tensor Turn(ObservationInput input)
    {
        var now = input[_heading].to_type(ScalarType.Int64).sub(_start);                 // [B]
        var first = input[_history].select(1, _row).to_type(ScalarType.Int64);           // [B]; history stores value − start
        var valid = input[_mask].select(1, _row).ne(0).to_type(ScalarType.Int64);        // [B]; the anchored row, from step 1 on
        return now.sub(first).remainder(_headings).mul(valid);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor turn) => table.index_select(0, turn);           // [B, T, C]
}

public sealed partial class StartHeadingPositions : IOnnxExportable
{
    /// <summary>Writes <see cref="Turn"/> and <see cref="forward"/>: the embedding rows [B, T, C] for the observation's turn.</summary>
    public string ExportOnnx(OnnxGraphBuilder g, IReadOnlyList<string> observation)
    {
        var now = g.Sub(g.Cast(observation[_heading], OnnxDataType.Int64), g.Scalar(_start));                       // [B]
        var first = g.Cast(g.Gather(observation[_history], g.Scalar((long)_row), 1), OnnxDataType.Int64);         // [B]
        var valid = g.Cast(g.NotEqualTo(g.Cast(g.Gather(observation[_mask], g.Scalar((long)_row), 1), OnnxDataType.Int64), g.Scalar(0L)), OnnxDataType.Int64);
        // (now − first) mod N with a non-negative result, as torch's remainder: add N first (both lie in [0, N)).
        var turn = g.Mul(g.Op("Mod", [g.Add(g.Sub(now, first), g.Scalar((long)_headings)), g.Scalar((long)_headings)]), valid);
        return g.Gather(g.Parameter("table", table), turn);
    }
}
