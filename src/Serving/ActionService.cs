using RLAgents.Environments;
using RLAgents.Policies.Distributions;

namespace RLAgents.Serving;

/// <summary>How a request wants its actions.</summary>
/// <param name="Sample">Sample from softmax(preferences) instead of taking the argmax.</param>
/// <param name="Seed">With <paramref name="Sample"/>: observation i draws from <c>Rng(DeriveSeed(seed, "serve", i))</c>; null draws fresh randomness.</param>
/// <param name="Probabilities">Return each observation's action distribution.</param>
/// <param name="Value">Return V(s) (actor-critic) or Q(s, a) of the chosen action (Q-network).</param>
public sealed record ActOptions(bool Sample = false, ulong? Seed = null, bool Probabilities = false, bool Value = false);

/// <summary>A request's answer.</summary>
/// <param name="Actions">One action per observation (action-space values).</param>
/// <param name="Probabilities">[count·K] row-major, or null when not requested.</param>
/// <param name="Values">[count], or null when not requested.</param>
/// <param name="Memory">A recurrent policy's memory after the step, [count·H] row-major, or null for other policies.</param>
public sealed record ActOutcome(int[] Actions, float[]? Probabilities, float[]? Values, float[]? Memory = null);

/// <summary>
/// What every transport calls: queue the observations on the batcher, then choose actions from the
/// returned preferences: argmax by default, sampled on request (a request seed makes the draw repeatable).
/// </summary>
public sealed class ActionService(DynamicBatcher batcher, IPolicyBackend backend)
{
    /// <summary>The policy's description.</summary>
    public Policies.Export.OnnxPolicyInfo Info => backend.Info;

    /// <summary>The backend's engine.</summary>
    public BackendKind Backend => backend.Kind;

    /// <summary>
    /// Acts on slots 0..count−1 of <paramref name="observations"/>. A recurrent policy reads each observation's memory
    /// from <paramref name="memory"/> ([count·H]; null: each begins an episode) and the outcome carries the next one.
    /// </summary>
    public async Task<ActOutcome> ActAsync(ObservationBatch observations, int count, ActOptions options, float[]? memory = null)
    {
        var rows = await batcher.SubmitAsync(observations, count, memory).ConfigureAwait(false);
        return Decide(rows, count, options);
    }

    private ActOutcome Decide(EvaluatedRows rows, int count, ActOptions options)
    {
        var info = backend.Info;
        int k = info.ActionSpace.N;
        var actions = new int[count];
        var probabilities = options.Probabilities ? new float[count * k] : null;
        var values = options.Value ? new float[count] : null;
        Span<double> logp = stackalloc double[k];
        for (int i = 0; i < count; i++)
        {
            var row = rows.Preferences.AsSpan(i * k, k);
            CategoricalSampler.LogSoftmax(row, 1, logp);
            int a;
            if (options.Sample)
            {
                var rng = new Rng(options.Seed is ulong seed ? Rng.DeriveSeed(seed, "serve", i) : unchecked((ulong)Random.Shared.NextInt64()));
                a = CategoricalSampler.Sample(logp, rng);
            }
            else a = CategoricalSampler.ArgMax(row);
            actions[i] = a + info.ActionSpace.Start;
            if (probabilities is not null)
                for (int j = 0; j < k; j++) probabilities[i * k + j] = (float)Math.Exp(logp[j]);
            if (values is not null) values[i] = info.IsQNetwork ? row[a] : rows.Values[i];
        }
        return new ActOutcome(actions, probabilities, values, info.MemorySize > 0 ? rows.Memory : null);
    }
}
