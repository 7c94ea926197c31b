using System.Runtime.InteropServices;
using RLAgents.Core;

namespace RLAgents.Environments;

/// <summary>
/// A vector environment whose state a checkpoint can hold, so that a resumed run steps on exactly as an
/// uninterrupted one would: same episodes in progress, same generator streams. The state is plain data (JSON).
/// </summary>
public interface IRestorableVectorEnv
{
    /// <summary>
    /// Where every sub-environment stands now, or null when it cannot be captured exactly (<paramref name="reason"/>
    /// says why, e.g. a sub-environment whose generator is out of reach). Call between steps.
    /// </summary>
    VectorEnvState? CaptureState(out string? reason);

    /// <summary>
    /// Puts every sub-environment back where <see cref="CaptureState"/> found it (its observations included).
    /// Throws <see cref="EnvFaultException"/> when a sub-environment does not come back to the same observation:
    /// it is not deterministic given its seed and actions.
    /// </summary>
    void RestoreState(VectorEnvState state);
}

/// <summary>The captured state of a vector environment (see <see cref="IRestorableVectorEnv"/>).</summary>
/// <param name="Kind">The implementation that wrote it (restoring into another kind is an error).</param>
/// <param name="Envs">One entry per sub-environment (empty for a wrapper, whose <paramref name="Inner"/> holds them).</param>
/// <param name="Inner">A vector wrapper's inner state.</param>
/// <param name="Observations">A vector wrapper's own observations (e.g. memory), when they are not rebuilt from the inner env.</param>
public sealed record VectorEnvState(string Kind, SubEnvState[] Envs, VectorEnvState? Inner = null, ObservationBatchState? Observations = null);

/// <summary>
/// Where one sub-environment stands. A separate env (sync or threaded vectorization) is restored by replay: reset it
/// as its episode began (<paramref name="Seed"/>, or the generator state <paramref name="Random"/> it was reset from)
/// and take <paramref name="Actions"/> again. A natively batched env stores its physical state and generator instead.
/// </summary>
/// <param name="Seed">The seed the episode was reset with, or null (the env continued its generator).</param>
/// <param name="Random">Replay: the env's generator just before the episode's reset (when unseeded). Batched: the generator now.</param>
/// <param name="Actions">Replay: the integer elements of the actions taken since the reset, step-major [steps × Kd] (<see cref="ActionLayout"/>).</param>
/// <param name="Checksum">CRC-32C of the sub-environment's current observation (restoring checks it).</param>
/// <param name="Physical">Batched: the physical state (e.g. CartPole's x, ẋ, θ, θ̇).</param>
/// <param name="Steps">Steps of the episode so far.</param>
/// <param name="Return">Batched: the episode's return so far (its statistics).</param>
/// <param name="Continuous">Replay: the float elements of the actions taken since the reset, step-major [steps × Kc].</param>
public sealed record SubEnvState(long? Seed, RngState? Random, int[]? Actions, uint Checksum, double[]? Physical = null, int Steps = 0, double Return = 0, float[]? Continuous = null);

/// <summary>The contents of an <see cref="ObservationBatch"/>: per modality its raw little-endian bytes (base64), or its texts.</summary>
/// <param name="Data">Per modality: base64 of the float32, uint8 or int32 values; null for text.</param>
/// <param name="Texts">Per modality: the strings of a text modality; null otherwise.</param>
public sealed record ObservationBatchState(string?[] Data, string[]?[] Texts);

/// <summary>Capture and restore of observation batches (checkpointed vector-env wrappers) and their checksums.</summary>
public static class ObservationBatches
{
    /// <summary>The contents of <paramref name="batch"/>.</summary>
    public static ObservationBatchState Capture(ObservationBatch batch)
    {
        int n = batch.Space.Count;
        var data = new string?[n];
        var texts = new string[]?[n];
        for (int m = 0; m < n; m++)
        {
            switch (batch.Space[m].Storage)
            {
                case ModalityStorage.Float32: data[m] = Convert.ToBase64String(MemoryMarshal.AsBytes(batch.Floats(m).AsSpan())); break;
                case ModalityStorage.UInt8: data[m] = Convert.ToBase64String(batch.Bytes(m)); break;
                case ModalityStorage.Int32: data[m] = Convert.ToBase64String(MemoryMarshal.AsBytes(batch.Ints(m).AsSpan())); break;
                default: texts[m] = [.. batch.Texts(m)]; break;
            }
        }
        return new ObservationBatchState(data, texts);
    }

    /// <summary>Writes <paramref name="state"/> back into <paramref name="batch"/> (same space and count, else <see cref="InvalidDataException"/>).</summary>
    public static void Restore(ObservationBatchState state, ObservationBatch batch)
    {
        int n = batch.Space.Count;
        if (state.Data.Length != n || state.Texts.Length != n) throw new InvalidDataException($"Saved observations have {state.Data.Length} modalities; the batch has {n}.");
        for (int m = 0; m < n; m++)
        {
            Span<byte> target = batch.Space[m].Storage switch
            {
                ModalityStorage.Float32 => MemoryMarshal.AsBytes(batch.Floats(m).AsSpan()),
                ModalityStorage.UInt8 => batch.Bytes(m),
                ModalityStorage.Int32 => MemoryMarshal.AsBytes(batch.Ints(m).AsSpan()),
                _ => default,
            };
            if (batch.Space[m].Storage == ModalityStorage.Text)
            {
                var texts = state.Texts[m] ?? throw new InvalidDataException($"Saved observations lack the texts of modality '{batch.Space[m].Name}'.");
                if (texts.Length != batch.Count) throw new InvalidDataException($"Saved modality '{batch.Space[m].Name}' holds {texts.Length} texts, not {batch.Count}.");
                texts.CopyTo(batch.Texts(m), 0);
                continue;
            }
            byte[] bytes = Convert.FromBase64String(state.Data[m] ?? throw new InvalidDataException($"Saved observations lack modality '{batch.Space[m].Name}'."));
            if (bytes.Length != target.Length) throw new InvalidDataException($"Saved modality '{batch.Space[m].Name}' holds {bytes.Length} bytes, not {target.Length}.");
            bytes.CopyTo(target);
        }
    }

    /// <summary>CRC-32C of slot <paramref name="slot"/>'s values, modality by modality (text as UTF-8).</summary>
    public static uint Checksum(ObservationBatch batch, int slot)
    {
        uint crc = Crc32C.Start;
        for (int m = 0; m < batch.Space.Count; m++)
        {
            int size = batch.Space[m].Size;
            switch (batch.Space[m].Storage)
            {
                case ModalityStorage.Float32: crc = Crc32C.Append(crc, MemoryMarshal.AsBytes(batch.Floats(m).AsSpan(slot * size, size))); break;
                case ModalityStorage.UInt8: crc = Crc32C.Append(crc, batch.Bytes(m).AsSpan(slot * size, size)); break;
                case ModalityStorage.Int32: crc = Crc32C.Append(crc, MemoryMarshal.AsBytes(batch.Ints(m).AsSpan(slot, 1))); break;
                default: crc = Crc32C.Append(crc, System.Text.Encoding.UTF8.GetBytes(batch.Texts(m)[slot] ?? "")); break;
            }
        }
        return Crc32C.Finish(crc);
    }
}
