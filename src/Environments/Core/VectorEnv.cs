namespace RLAgents.Environments;

/// <summary>
/// What a vector environment does when one of its sub-environments ends an episode.
/// </summary>
public enum AutoresetMode
{
    /// <summary>
    /// The sub-environment is reset inside the same <see cref="IVectorEnv.Step(ActionBatch)"/> that ended it:
    /// the batch observation already holds the new episode's first observation, and the last
    /// observation of the ended episode is in <see cref="IVectorEnv.FinalObservations"/> (valid
    /// for that step, for that env). Rewards and flags belong to the ended episode's last step.
    /// Stable-Baselines3's convention and Gymnasium's <c>SAME_STEP</c>.
    /// </summary>
    SameStep,

    /// <summary>
    /// The step that ends an episode returns its final observation as usual; the next
    /// <see cref="IVectorEnv.Step(ActionBatch)"/> ignores that env's action, resets it, and reports reward 0
    /// with both flags false. Gymnasium 1.x's default <c>NEXT_STEP</c>.
    /// </summary>
    NextStep,

    /// <summary>No automatic reset: ended envs must be reset through <see cref="IVectorEnv.ResetAt"/> before stepping again.</summary>
    Disabled,
}

/// <summary>
/// A batch of observations: one contiguous array per modality, env-major
/// (env i's elements of a modality of size S occupy <c>[i*S, (i+1)*S)</c>). Allocated once.
/// </summary>
public sealed class ObservationBatch
{
    private readonly float[]?[] _floats;
    private readonly byte[]?[] _bytes;
    private readonly int[]?[] _ints;
    private readonly string[]?[] _texts;

    /// <summary>Allocates zeroed buffers for <paramref name="count"/> observations of <paramref name="space"/>.</summary>
    public ObservationBatch(ObservationSpace space, int count)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count));
        Space = space;
        Count = count;
        int n = space.Count;
        _floats = new float[]?[n];
        _bytes = new byte[]?[n];
        _ints = new int[]?[n];
        _texts = new string[]?[n];
        for (int m = 0; m < n; m++)
        {
            var mod = space[m];
            switch (mod.Storage)
            {
                case ModalityStorage.Float32: _floats[m] = new float[checked(mod.Size * count)]; break;
                case ModalityStorage.UInt8: _bytes[m] = new byte[checked(mod.Size * count)]; break;
                case ModalityStorage.Int32: _ints[m] = new int[count]; break;
                default: _texts[m] = Enumerable.Repeat("", count).ToArray(); break;
            }
        }
    }

    /// <summary>Layout of each observation.</summary>
    public ObservationSpace Space { get; }

    /// <summary>Number of observations (envs).</summary>
    public int Count { get; }

    /// <summary>All float32 elements of modality <paramref name="m"/>, [Count × Size].</summary>
    public float[] Floats(int m) => _floats[m] ?? throw Wrong(m);

    /// <summary>All uint8 elements of modality <paramref name="m"/>, [Count × Size].</summary>
    public byte[] Bytes(int m) => _bytes[m] ?? throw Wrong(m);

    /// <summary>The integers of discrete modality <paramref name="m"/>, [Count].</summary>
    public int[] Ints(int m) => _ints[m] ?? throw Wrong(m);

    /// <summary>The strings of text modality <paramref name="m"/>, [Count].</summary>
    public string[] Texts(int m) => _texts[m] ?? throw Wrong(m);

    /// <summary>Writes <paramref name="observation"/> into slot <paramref name="index"/>.</summary>
    public void Set(int index, Observation observation)
    {
        for (int m = 0; m < Space.Count; m++)
        {
            int size = Space[m].Size;
            switch (Space[m].Storage)
            {
                case ModalityStorage.Float32: observation.Floats(m).CopyTo(_floats[m].AsSpan(index * size, size)); break;
                case ModalityStorage.UInt8: observation.Bytes(m).CopyTo(_bytes[m].AsSpan(index * size, size)); break;
                case ModalityStorage.Int32: _ints[m]![index] = observation.GetInt(m); break;
                default: _texts[m]![index] = observation.GetText(m); break;
            }
        }
    }

    /// <summary>Reads slot <paramref name="index"/> into <paramref name="destination"/>.</summary>
    public void Get(int index, Observation destination)
    {
        for (int m = 0; m < Space.Count; m++)
        {
            int size = Space[m].Size;
            switch (Space[m].Storage)
            {
                case ModalityStorage.Float32: _floats[m].AsSpan(index * size, size).CopyTo(destination.Floats(m)); break;
                case ModalityStorage.UInt8: _bytes[m].AsSpan(index * size, size).CopyTo(destination.Bytes(m)); break;
                case ModalityStorage.Int32: destination.SetInt(m, _ints[m]![index]); break;
                default: destination.SetText(m, _texts[m]![index]); break;
            }
        }
    }

    /// <summary>Copies slot <paramref name="index"/> into slot <paramref name="destIndex"/> of <paramref name="destination"/>.</summary>
    public void CopySlot(int index, ObservationBatch destination, int destIndex)
    {
        for (int m = 0; m < Space.Count; m++)
        {
            int size = Space[m].Size;
            switch (Space[m].Storage)
            {
                case ModalityStorage.Float32: Array.Copy(_floats[m]!, index * size, destination._floats[m]!, destIndex * size, size); break;
                case ModalityStorage.UInt8: Array.Copy(_bytes[m]!, index * size, destination._bytes[m]!, destIndex * size, size); break;
                case ModalityStorage.Int32: destination._ints[m]![destIndex] = _ints[m]![index]; break;
                default: destination._texts[m]![destIndex] = _texts[m]![index]; break;
            }
        }
    }

    private InvalidOperationException Wrong(int m) => new($"Modality '{Space[m].Name}' is stored as {Space[m].Storage}.");
}

/// <summary>
/// N copies of an environment stepped together. Per-env seeds are derived from the one seed
/// given to <see cref="Reset"/>. Buffers are allocated once and rewritten in place.
/// </summary>
public interface IVectorEnv : IDisposable
{
    /// <summary>Number of sub-environments.</summary>
    int NumEnvs { get; }

    /// <summary>Identity of the sub-environments.</summary>
    EnvId Id { get; }

    /// <summary>Observation space of one sub-environment.</summary>
    ObservationSpace SingleObservationSpace { get; }

    /// <summary>Action space of one sub-environment (<see cref="IEnv.ActionSpace"/>); <see cref="Space.AsDiscrete"/> for discrete-only code.</summary>
    Space SingleActionSpace { get; }

    /// <summary>What happens when a sub-environment's episode ends.</summary>
    AutoresetMode AutoresetMode { get; }

    /// <summary>Current observations, one slot per env.</summary>
    ObservationBatch Observations { get; }

    /// <summary>
    /// Last observations of episodes that ended on the latest step (SameStep mode): slot i is
    /// meaningful only where <c>Terminated[i] || Truncated[i]</c>.
    /// </summary>
    ObservationBatch FinalObservations { get; }

    /// <summary>Rewards of the latest step, [NumEnvs].</summary>
    ReadOnlySpan<double> Rewards { get; }

    /// <summary>Termination flags of the latest step, [NumEnvs].</summary>
    ReadOnlySpan<bool> Terminated { get; }

    /// <summary>Truncation flags of the latest step, [NumEnvs].</summary>
    ReadOnlySpan<bool> Truncated { get; }

    /// <summary>Typed infos of the latest step, [NumEnvs] (episode statistics on ended episodes).</summary>
    ReadOnlySpan<StepInfo> Infos { get; }

    /// <summary>Resets every env; env i gets a seed derived from <paramref name="seed"/> and i.</summary>
    void Reset(long? seed = null);

    /// <summary>Resets env <paramref name="index"/> only (needed in <see cref="AutoresetMode.Disabled"/>).</summary>
    void ResetAt(int index, long? seed = null);

    /// <summary>
    /// Steps every env with its action (a batch of <see cref="SingleActionSpace"/> for
    /// <see cref="NumEnvs"/> envs). Every action is validated before any env steps, as
    /// <see cref="IEnv.Step(EnvAction)"/> validates one; in <see cref="AutoresetMode.NextStep"/> the
    /// action of an env being reset is ignored (but still validated).
    /// </summary>
    void Step(ActionBatch actions);

    /// <summary>
    /// Steps every env with integer actions, env-major [NumEnvs × Kd]: for action spaces without
    /// continuous elements (Discrete: one per env; MultiDiscrete: K per env). Same semantics as
    /// <see cref="Step(ActionBatch)"/>.
    /// </summary>
    void Step(ReadOnlySpan<int> actions);
}
