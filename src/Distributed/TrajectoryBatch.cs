using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;

namespace RLAgents.Distributed;

/// <summary>
/// The packed form of a worker's batch, shipped as one <c>byte[]</c> (Orleans copies a byte array as a
/// block; a float[] element by element is ~4× slower): a format tag, the finished episodes' statistics,
/// then the buffer's own packed form — a <see cref="RolloutBuffer"/> (<see cref="RolloutBuffer.Write"/>)
/// for on-policy phases or n-step transitions (<see cref="ReplayBuffer.WriteTransitions"/>) for DQN, SAC and TD3;
/// both carry the action layout and float actions.
/// Text observations travel as UTF-8 (see <see cref="ObservationPacking"/>).
/// </summary>
public static class TrajectoryBatch
{
    // 2: the buffers carry their action layout and float actions. 3: rollouts carry a recurrent policy's memory.
    private const int Format = 3;

    /// <summary>What the payload holds.</summary>
    public enum Payload : byte
    {
        /// <summary>An on-policy rollout (T × envs).</summary>
        Rollout = 1,
        /// <summary>n-step transitions for a replay buffer.</summary>
        Transitions = 2,
    }

    /// <summary>Packs a rollout and the episodes that finished while collecting it.</summary>
    public static byte[] Pack(RolloutBuffer rollout, IReadOnlyList<EpisodeRecord> episodes) =>
        Pack(Payload.Rollout, episodes, rollout.Write);

    /// <summary>Packs a staging buffer's transitions and the episodes that finished while collecting them.</summary>
    public static byte[] Pack(ReplayBuffer transitions, IReadOnlyList<EpisodeRecord> episodes) =>
        Pack(Payload.Transitions, episodes, transitions.WriteTransitions);

    private static byte[] Pack(Payload payload, IReadOnlyList<EpisodeRecord> episodes, Action<BinaryWriter> write)
    {
        using var memory = new MemoryStream();
        using (var w = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Format);
            w.Write((byte)payload);
            w.Write(episodes.Count);
            foreach (var e in episodes)
            {
                w.Write(e.Return);
                w.Write(e.Length);
                w.Write(e.Success switch { null => (sbyte)-1, true => (sbyte)1, false => (sbyte)0 });
            }
            write(w);
        }
        return memory.ToArray();
    }

    /// <summary>
    /// Opens a packed batch: checks the format and payload kind, appends its episodes to <paramref name="episodes"/> and
    /// returns a reader positioned at the payload. <paramref name="source"/> names the batch in errors.
    /// </summary>
    public static BinaryReader Open(byte[] data, Payload expected, List<EpisodeRecord> episodes, string source)
    {
        var r = new BinaryReader(new MemoryStream(data, writable: false), System.Text.Encoding.UTF8);
        try
        {
            int format = r.ReadInt32();
            if (format != Format) throw new InvalidDataException($"{source}: batch format {format}, expected {Format}.");
            var payload = (Payload)r.ReadByte();
            if (payload != expected) throw new InvalidDataException($"{source}: holds {payload}, the phase needs {expected}.");
            int count = r.ReadInt32();
            if (count < 0) throw new InvalidDataException($"{source}: negative episode count.");
            for (int i = 0; i < count; i++)
            {
                double ret = r.ReadDouble();
                int length = r.ReadInt32();
                sbyte success = r.ReadSByte();
                episodes.Add(new EpisodeRecord(ret, length, success < 0 ? null : success > 0));
            }
            return r;
        }
        catch
        {
            r.Dispose();
            throw;
        }
    }
}
