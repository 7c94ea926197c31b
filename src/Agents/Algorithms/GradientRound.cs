namespace RLAgents.Agents.Algorithms;

/// <summary>
/// The metrics of one round of off-policy gradient steps (DQN, SAC, TD3): each step's figures are averaged
/// over the steps whose gradients were finite. A step whose gradient norm (any <c>*grad_norm</c> key) is not
/// finite was not applied by its optimiser; it counts in <c>skipped_updates</c> and the first one is named in
/// <see cref="NonFinite"/>, for the runner to stop on or go past (<c>training.nonFinite</c>).
/// </summary>
internal sealed class GradientRound
{
    private readonly Dictionary<string, double> _sums = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private int _skipped;

    /// <summary>The first non-finite quantity of the round (e.g. <c>critic_loss = NaN</c>), or null.</summary>
    public string? NonFinite { get; private set; }

    /// <summary>Takes one gradient step's metrics.</summary>
    public void Add(IReadOnlyDictionary<string, double> step)
    {
        foreach (var (key, value) in step)
        {
            if (!key.EndsWith("grad_norm", StringComparison.Ordinal) || double.IsFinite(value)) continue;
            _skipped++;
            NonFinite ??= OnPolicyAlgorithm.NonFiniteQuantity(step, value);
            return;
        }
        foreach (var (key, value) in step)
        {
            _sums[key] = _sums.GetValueOrDefault(key) + value;
            _counts[key] = _counts.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>Writes the averages (and <c>skipped_updates</c> when any step was skipped) into <paramref name="metrics"/>.</summary>
    public void WriteTo(IDictionary<string, double> metrics)
    {
        foreach (var (key, sum) in _sums) metrics[key] = sum / _counts[key];
        if (_skipped > 0) metrics["skipped_updates"] = _skipped;
    }
}
