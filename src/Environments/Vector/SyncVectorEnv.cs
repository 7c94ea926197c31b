namespace RLAgents.Environments.Vector;

/// <summary>
/// Steps N environments one after another on the calling thread.
/// </summary>
/// <remarks>
/// Autoreset semantics (<see cref="AutoresetMode"/>):
/// <list type="bullet">
/// <item><see cref="AutoresetMode.SameStep"/>: an env whose episode ends is reset inside the same
/// <see cref="Step"/>; <see cref="Observations"/> holds the new episode's first observation and
/// <see cref="FinalObservations"/> the ended episode's last one; reward, flags and info belong to the ended step.</item>
/// <item><see cref="AutoresetMode.NextStep"/>: the ending step reports the final observation in
/// <see cref="Observations"/>; on the following <see cref="Step"/> that env's action is ignored, it is
/// reset, and it reports its first observation with reward 0 and both flags false.</item>
/// <item><see cref="AutoresetMode.Disabled"/>: an ended env must be reset with <see cref="ResetAt"/>;
/// stepping before that throws <see cref="InvalidOperationException"/>.</item>
/// </list>
/// <see cref="Reset"/> with a seed gives env i the seed <c>Rng.DeriveSeed(seed, "env", i)</c>.
/// Infos pass through from the envs (episode statistics when they are wrapped in
/// <see cref="Wrappers.RecordEpisodeStatistics"/>, as <see cref="EnvRegistry.Make"/> does).
/// </remarks>
public sealed class SyncVectorEnv : IVectorEnv
{
    private readonly SubEnvBatch _batch;

    /// <summary>Takes ownership of <paramref name="envs"/> (same id, spaces), which it disposes.</summary>
    public SyncVectorEnv(IReadOnlyList<IEnv> envs, AutoresetMode autoresetMode) => _batch = new SubEnvBatch(envs, autoresetMode);

    /// <summary>Creates <paramref name="numEnvs"/> envs with <paramref name="factory"/>(index).</summary>
    public SyncVectorEnv(Func<int, IEnv> factory, int numEnvs, AutoresetMode autoresetMode)
        : this(Enumerable.Range(0, CheckCount(numEnvs)).Select(factory).ToArray(), autoresetMode) { }

    /// <inheritdoc />
    public int NumEnvs => _batch.Count;

    /// <inheritdoc />
    public EnvId Id => _batch.Id;

    /// <inheritdoc />
    public ObservationSpace SingleObservationSpace => _batch.ObservationSpace;

    /// <inheritdoc />
    public DiscreteSpace SingleActionSpace => _batch.ActionSpace;

    /// <inheritdoc />
    public AutoresetMode AutoresetMode => _batch.Mode;

    /// <inheritdoc />
    public ObservationBatch Observations => _batch.Observations;

    /// <inheritdoc />
    public ObservationBatch FinalObservations => _batch.FinalObservations;

    /// <inheritdoc />
    public ReadOnlySpan<double> Rewards => _batch.Rewards;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Terminated => _batch.Terminated;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Truncated => _batch.Truncated;

    /// <inheritdoc />
    public ReadOnlySpan<StepInfo> Infos => _batch.Infos;

    /// <inheritdoc />
    public void Reset(long? seed = null)
    {
        _batch.ResetRange(0, _batch.Count, seed);
        _batch.MarkReset();
    }

    /// <inheritdoc />
    public void ResetAt(int index, long? seed = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_batch.Count, nameof(index));
        if (!_batch.HasBeenReset) throw new InvalidOperationException($"{Id} vector env: call Reset before ResetAt.");
        _batch.ResetOne(index, seed);
    }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<int> actions)
    {
        _batch.BeginStep(actions);
        _batch.StepRange(0, _batch.Count);
    }

    /// <inheritdoc />
    public void Dispose() => _batch.Dispose();

    internal static int CheckCount(int numEnvs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        return numEnvs;
    }
}
