using RLAgents.Environments;
using RLAgents.LanguageModel.Onnx;
using RLAgents.Policies.Encoding;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Networks;

/// <summary>
/// How the rows of an <see cref="ObservationInput"/> form episodes for a recurrent policy: T steps of B sequences,
/// time-major (row t·B + b is step t of sequence b), the memory each sequence starts from, and where an episode
/// begins inside the window (its memory is reset there). Acting is the case T = 1.
/// </summary>
public sealed class SequenceInput
{
    /// <summary>
    /// A window of <paramref name="steps"/> steps; <paramref name="initial"/> [B, H] is the memory before its first step;
    /// <paramref name="continues"/> float [T, B] is 0 where step t begins a new episode (the memory entering it is
    /// zeroed) and 1 elsewhere, or null when no episode begins inside the window.
    /// </summary>
    public SequenceInput(int steps, Tensor initial, Tensor? continues = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (initial.dim() != 2) throw new ArgumentException($"The initial memory must be [B, H]; got {string.Join("×", initial.shape)}.");
        if (continues is not null && (continues.dim() != 2 || continues.shape[0] != steps || continues.shape[1] != initial.shape[0]))
            throw new ArgumentException($"The continue flags must be [T={steps}, B={initial.shape[0]}]; got {string.Join("×", continues.shape)}.");
        Steps = steps;
        Initial = initial;
        Continues = continues;
    }

    /// <summary>Steps per sequence, T.</summary>
    public int Steps { get; }

    /// <summary>Sequences, B.</summary>
    public long Sequences => Initial.shape[0];

    /// <summary>The memory before each sequence's first step, [B, H].</summary>
    public Tensor Initial { get; }

    /// <summary>float [T, B]: 0 where the step begins an episode, else 1; null when none does.</summary>
    public Tensor? Continues { get; }

    /// <summary>The memory after each sequence's last step, [B, H]: written by the forward pass that read this input.</summary>
    public Tensor? Final { get; internal set; }

    /// <summary>
    /// <see cref="Final"/> copied to the host, [B × H] row-major, by <see cref="Policy.Act"/> before its dispose scope
    /// frees the tensor; null until then.
    /// </summary>
    public float[]? FinalValues { get; private set; }

    /// <summary>Copies <see cref="Final"/> to <see cref="FinalValues"/>.</summary>
    internal void KeepFinal()
    {
        if (Final is null) return;
        using var host = Final.detach().cpu().contiguous();
        FinalValues = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(host.bytes).ToArray();
    }
}

/// <summary>
/// The recurrent state of a policy (<see cref="PolicyOptions.Recurrent"/>): a GRU cell over the state estimator's
/// per-step state, h_t = GRU(s_t, c_t · h_{t−1}) with c_t = 0 at an episode's first step, and the heads read
/// s_t + h_t (or s_t + P·h_t when the memory's H units differ from the state's D, <see cref="PolicyOptions.MemorySize"/>).
/// The residual keeps what the memoryless estimator knows (a fresh cell adds little to it) while the memory
/// carries what left the view — BabyAI's agents are recurrent for the same reason (Chevalier-Boisvert et al., 2019).
/// The estimator runs on all T·B rows at once; only the cell steps through time.
/// </summary>
public sealed class RecurrentCore : nn.Module, IOnnxExportable
{
    private readonly GRUCell cell;
    private readonly Linear? projection;

    /// <summary>
    /// A cell of <paramref name="memorySize"/> units H over states of <paramref name="stateSize"/> D; when they differ a
    /// projection P [D, H] (no bias) maps the memory onto the state. Weights from <paramref name="rng"/> (PyTorch's
    /// defaults: U(−1/√H, 1/√H) for the cell and for P, whose fan-in is H).
    /// </summary>
    public RecurrentCore(int stateSize, int memorySize, Rng rng) : base("recurrent")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stateSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(memorySize, 1);
        StateSize = stateSize;
        Size = memorySize;
        cell = nn.GRUCell(stateSize, memorySize);
        if (memorySize != stateSize) projection = nn.Linear(memorySize, stateSize, hasBias: false);
        // Drawn from the run's generator, not libtorch's, so that one seed gives one network.
        double bound = 1 / Math.Sqrt(memorySize);
        using (no_grad())
        {
            foreach (var (_, p) in cell.named_parameters()) FillUniform(p, bound, rng);
            if (projection is not null) FillUniform(projection.weight!, bound, rng);
        }
        register_module("cell", cell);
        if (projection is not null) register_module("projection", projection);
    }

    private static void FillUniform(Tensor p, double bound, Rng rng)
    {
        var values = new float[p.numel()];
        for (int i = 0; i < values.Length; i++) values[i] = (float)rng.Uniform(-bound, bound);
        using var t = tensor(values, p.shape);
        p.copy_(t);
    }

    /// <summary>Memory units H.</summary>
    public int Size { get; }

    /// <summary>State units D the cell reads and the heads' input has.</summary>
    public int StateSize { get; }

    /// <summary>The heads' input [N, D]: the state plus the memory [N, H] (projected to D when H ≠ D).</summary>
    private Tensor Residual(Tensor states, Tensor memories) =>
        states.add(projection is null ? memories : projection.forward(memories));

    /// <summary>
    /// The heads' input [T·B, D] for the estimator's states [T·B, D] of <paramref name="sequence"/>'s rows; sets
    /// <see cref="SequenceInput.Final"/> to the memory after the last step.
    /// </summary>
    public Tensor Forward(Tensor states, SequenceInput? sequence)
    {
        if (sequence is null)
            throw new InvalidOperationException("This policy is recurrent (policy.recurrent): its input must say which episode each row continues (ObservationInput.Sequence).");
        int steps = sequence.Steps;
        long b = sequence.Sequences;
        if (states.shape[0] != steps * b)
            throw new ArgumentException($"{states.shape[0]} rows do not make {steps} steps of {b} sequences.");
        if (sequence.Initial.shape[1] != Size) throw new ArgumentException($"The memory has {sequence.Initial.shape[1]} units; this policy's has {Size}.");
        var h = sequence.Initial;
        if (steps == 1 && sequence.Continues is null)
        {
            h = cell.forward(states, h);
            sequence.Final = h;
            return Residual(states, h);
        }
        var perStep = states.view(steps, b, StateSize);
        var outputs = new Tensor[steps];
        for (int t = 0; t < steps; t++)
        {
            if (sequence.Continues is { } c) h = h.mul(c[t].unsqueeze(1)); // [B, H] · [B, 1]
            h = cell.forward(perStep[t], h);
            outputs[t] = h;
        }
        sequence.Final = h;
        return Residual(states, stack(outputs).view(steps * b, Size));
    }

    /// <summary>
    /// Writes one acting step: the heads' input s + h′ [B, D] (s + P·h′ when H ≠ D) and the new memory h′ [B, H] from the estimator's state and the
    /// memory input (PyTorch's GRUCell: r = σ(W_ir s + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in s + b_in + r ⊙ (W_hn h + b_hn)),
    /// h′ = (1 − z) ⊙ n + z ⊙ h, written n + z ⊙ (h − n)). The caller clears the memory where an episode begins.
    /// </summary>
    public (string Heads, string Memory) ExportOnnx(OnnxGraphBuilder g, string state, string memory)
    {
        var p = cell.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        string newMemory;
        using (g.Enter("cell"))
        {
            // [B, 3H] gate pre-activations, split into the (r, z, n) thirds torch stores them in.
            var gi = g.Add(g.MatMul(state, g.Parameter("weight_ih", "t", () => p["weight_ih"].detach().t().contiguous())), g.Parameter("bias_ih", p["bias_ih"]));
            var gh = g.Add(g.MatMul(memory, g.Parameter("weight_hh", "t", () => p["weight_hh"].detach().t().contiguous())), g.Parameter("bias_hh", p["bias_hh"]));
            var i = g.Op("Split", [gi], 3, OnnxAttribute.Of("axis", 1L));
            var h = g.Op("Split", [gh], 3, OnnxAttribute.Of("axis", 1L));
            var r = g.Op("Sigmoid", [g.Add(i[0], h[0])]);
            var z = g.Op("Sigmoid", [g.Add(i[1], h[1])]);
            var n = g.Tanh(g.Add(i[2], g.Mul(r, h[2])));
            newMemory = g.Add(n, g.Mul(z, g.Sub(memory, n)));
        }
        if (projection is null) return (g.Add(state, newMemory), newMemory);
        string projected;
        using (g.Enter("projection"))
            projected = g.MatMul(newMemory, g.Parameter("weight", "t", () => projection.weight!.detach().t().contiguous())); // [B, H]·[H, D]
        return (g.Add(state, projected), newMemory);
    }
}

/// <summary>
/// The memory of a batch of episodes in progress while a recurrent policy acts: one row of H floats per env slot, on the
/// host (so that checkpoints and resets are plain array work). <see cref="Attach"/> hands it to the next forward pass,
/// <see cref="Commit"/> keeps what that pass wrote, <see cref="EndEpisode"/> clears a slot whose episode ended.
/// </summary>
public sealed class RecurrentMemory
{
    private readonly float[] _rows;

    /// <summary>Zero memory for <paramref name="slots"/> slots of <paramref name="size"/> units.</summary>
    public RecurrentMemory(int slots, int size)
    {
        Slots = slots;
        Size = size;
        _rows = new float[slots * size];
    }

    /// <summary>Memory for <paramref name="slots"/> slots of <paramref name="policy"/>, or null when it is not recurrent.</summary>
    public static RecurrentMemory? For(Policy policy, int slots) =>
        policy is ActorCriticPolicy { MemorySize: > 0 and var size } ? new RecurrentMemory(slots, size) : null;

    /// <summary>Slots.</summary>
    public int Slots { get; }

    /// <summary>Units per slot, H.</summary>
    public int Size { get; }

    /// <summary>The memory, [Slots × H] row-major.</summary>
    public Span<float> Values => _rows;

    /// <summary>
    /// Attaches the memory of the first <paramref name="rows"/> slots to <paramref name="input"/> (whose row i is slot i's
    /// current step), for one forward pass; the tensor belongs to the caller's dispose scope.
    /// </summary>
    public ObservationInput Attach(ObservationInput input, int rows)
    {
        // tensor() copies the host values, so the whole array goes as it is when every slot acts (the rollout's case).
        var values = rows == Slots ? _rows : _rows.AsSpan(0, rows * Size).ToArray();
        input.Sequence = new SequenceInput(1, tensor(values, [rows, Size]));
        return input;
    }

    /// <summary>
    /// Attaches the memory of <paramref name="slots"/> (input row j is slot slots[j]'s step) without committing it later:
    /// values of final observations for bootstrapping read the memory the episode ended with.
    /// </summary>
    public ObservationInput AttachRows(ObservationInput input, ReadOnlySpan<int> slots, int rows)
    {
        var values = new float[rows * Size];
        for (int j = 0; j < rows; j++)
        {
            int slot = j < slots.Length ? slots[j] : 0; // rows past the caller's count are padding, ignored
            _rows.AsSpan(slot * Size, Size).CopyTo(values.AsSpan(j * Size));
        }
        input.Sequence = new SequenceInput(1, tensor(values, [rows, Size]));
        return input;
    }

    /// <summary>Keeps the memory the forward pass over <paramref name="input"/> (from <see cref="Attach"/>) wrote.</summary>
    public void Commit(ObservationInput input)
    {
        var final = input.Sequence?.FinalValues ?? throw new InvalidOperationException("No acting pass wrote a memory to commit.");
        final.CopyTo(_rows.AsSpan());
        input.Sequence = null;
    }

    /// <summary>Clears slot <paramref name="slot"/>: its next step begins an episode.</summary>
    public void EndEpisode(int slot) => _rows.AsSpan(slot * Size, Size).Clear();

    /// <summary>Clears every slot.</summary>
    public void Clear() => Array.Clear(_rows);
}
