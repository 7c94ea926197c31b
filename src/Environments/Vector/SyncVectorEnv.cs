namespace RLAgents.Environments.Vector;

/// <summary>
/// Steps N environments one after another on the calling thread.
/// </summary>
/// <remarks>
/// Autoreset semantics (<see cref="AutoresetMode"/>):
/// <list type="bullet">
/// <item><see cref="AutoresetMode.SameStep"/>: an env whose episode ends is reset inside the same
/// <see cref="SubEnvVectorEnv.Step(ActionBatch)"/>; <see cref="SubEnvVectorEnv.Observations"/> holds the new episode's first observation and
/// <see cref="SubEnvVectorEnv.FinalObservations"/> the ended episode's last one; reward, flags and info belong to the ended step.</item>
/// <item><see cref="AutoresetMode.NextStep"/>: the ending step reports the final observation in
/// <see cref="SubEnvVectorEnv.Observations"/>; on the following step that env's action is ignored, it is
/// reset, and it reports its first observation with reward 0 and both flags false.</item>
/// <item><see cref="AutoresetMode.Disabled"/>: an ended env must be reset with <see cref="SubEnvVectorEnv.ResetAt"/>;
/// stepping before that throws <see cref="InvalidOperationException"/>.</item>
/// </list>
/// <see cref="Reset"/> with a seed gives env i the seed <c>Rng.DeriveSeed(seed, "env", i)</c>.
/// Infos pass through from the envs (episode statistics when they are wrapped in
/// <see cref="Wrappers.RecordEpisodeStatistics"/>, as <see cref="EnvRegistry.Make"/> does).
/// </remarks>
public sealed class SyncVectorEnv : SubEnvVectorEnv
{
    /// <summary>Takes ownership of <paramref name="envs"/> (same id, spaces), which it disposes.</summary>
    public SyncVectorEnv(IReadOnlyList<IEnv> envs, AutoresetMode autoresetMode) : base(new SubEnvBatch(envs, autoresetMode)) { }

    /// <summary>Creates <paramref name="numEnvs"/> envs with <paramref name="factory"/>(index).</summary>
    public SyncVectorEnv(Func<int, IEnv> factory, int numEnvs, AutoresetMode autoresetMode)
        : this(Enumerable.Range(0, CheckCount(numEnvs)).Select(factory).ToArray(), autoresetMode) { }

    /// <inheritdoc />
    public override void Reset(long? seed = null)
    {
        Batch.ResetRange(0, Batch.Count, seed);
        Batch.MarkReset();
    }

    private protected override void StepAll() => Batch.StepRange(0, Batch.Count);

    /// <inheritdoc />
    public override void Dispose() => Batch.Dispose();
}
