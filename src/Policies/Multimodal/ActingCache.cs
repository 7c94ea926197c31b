using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// What the multimodal estimator computes from a small discrete key alone — the backbone's encoding of a mission
/// (its token ids), a late-fusion pool of a discrete value — kept per key while acting, so a mission costs one
/// backbone pass per weight change instead of one per step and env (<see cref="MultimodalOptions.ActingCache"/>).
/// <para>
/// Each table maps a key (a row of int64 values: token ids, a discrete value) to one state vector [C], stored as a
/// row of a bank tensor [capacity, C] that the cache owns (outside every dispose scope); a lookup returns the rows of
/// a batch as a fresh [B, C] tensor in the caller's scope (one <c>index_select</c>). Every missing key is encoded on
/// its own (a batch of one), so a cached state is a function of the key and the weights alone: it does not depend on
/// which keys shared a step or on what was cached before (a resumed run computes what the uninterrupted one did).
/// </para>
/// <para>
/// Validity: the cache keeps a byte copy of every parameter that shapes the cached states and compares it exactly
/// with the live weights on every <see cref="Validate"/> (a managed memory compare of about 0.5 MB for the 2×64
/// backbone, no libtorch call); any difference — an optimiser step, a checkpoint load, a copy, a test's
/// <c>add_</c> — empties every table. CPU tensors only (parameters elsewhere disable the cache).
/// A table that would outgrow <see cref="Capacity"/> keys starts over.
/// </para>
/// </summary>
internal sealed class ActingCache : IDisposable
{
    /// <summary>Default <see cref="Capacity"/> (keys per table; at C = 64, 1 MB of states).</summary>
    public const int DefaultCapacity = 4096;

    private readonly Parameter[] _shaping;
    private readonly byte[] _snapshot;
    private readonly Table[] _tables;
    private readonly Lock _lock = new();
    private bool _valid;

    /// <summary>A cache of <paramref name="tables"/> tables of <paramref name="width"/>-wide states, valid while <paramref name="shaping"/> keep their values.</summary>
    public ActingCache(IEnumerable<Parameter> shaping, int tables, int width, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _shaping = [.. shaping.Distinct()];
        _snapshot = new byte[_shaping.Sum(p => p.NumberOfElements * p.ElementSize)];
        Width = width;
        Capacity = capacity;
        _tables = [.. Enumerable.Range(0, tables).Select(_ => new Table())];
    }

    /// <summary>Width C of every state.</summary>
    public int Width { get; }

    /// <summary>Most keys per table.</summary>
    public int Capacity { get; }

    /// <summary>Keys served from a table so far (each row of a batch counts).</summary>
    public long Hits { get; private set; }

    /// <summary>Keys encoded so far.</summary>
    public long Misses { get; private set; }

    /// <summary>Times the tables were emptied because a shaping weight had changed (after the first fill).</summary>
    public long Invalidations { get; private set; }

    /// <summary>Keys currently held, over all tables.</summary>
    public int Count
    {
        get { lock (_lock) return _tables.Sum(t => t.Slots.Count); }
    }

    /// <summary>
    /// Compares the shaping weights with the copy the cached states were computed from, empties every table when they
    /// differ and takes a new copy; false when the weights are not plain CPU tensors (nothing is cached then).
    /// </summary>
    public bool Validate()
    {
        lock (_lock)
        {
            int offset = 0;
            bool same = _valid;
            foreach (var p in _shaping)
            {
                if (p.device_type != DeviceType.CPU || !p.is_contiguous()) return false;
                var bytes = p.bytes;
                if (same && !bytes.SequenceEqual(_snapshot.AsSpan(offset, bytes.Length))) same = false;
                if (!same) bytes.CopyTo(_snapshot.AsSpan(offset, bytes.Length));
                offset += bytes.Length;
            }
            if (same) return true;
            if (_tables.Any(t => t.Slots.Count > 0)) Invalidations++;
            foreach (var t in _tables) t.Clear();
            _valid = true;
            return true;
        }
    }

    /// <summary>
    /// The states [B, C] of the B = keys.Length / <paramref name="keyWidth"/> keys in <paramref name="keys"/> (row-major),
    /// from <paramref name="table"/>; a key not held is encoded by <paramref name="encode"/> (its values → its state, [1, C]
    /// or [C], in the caller's scope) and kept. Call <see cref="Validate"/> first.
    /// </summary>
    public Tensor Lookup(int table, ReadOnlySpan<long> keys, int keyWidth, Func<long[], Tensor> encode)
    {
        lock (_lock)
        {
            var t = _tables[table];
            int rows = keys.Length / keyWidth;
            // Room for every row's key before the first miss, so no slot handed out in this call is reused in it.
            if (t.Slots.Count + rows > Capacity) t.Clear();
            var lookup = t.Slots.GetAlternateLookup<ReadOnlySpan<long>>();
            if (t.Index is null || t.Index.shape[0] != rows)
            {
                t.Index?.Dispose();
                t.Index = zeros(rows, dtype: ScalarType.Int64).DetachFromDisposeScope();
            }
            var index = MemoryMarshal.Cast<byte, long>(t.Index.bytes);
            for (int i = 0; i < rows; i++)
            {
                var key = keys.Slice(i * keyWidth, keyWidth);
                if (lookup.TryGetValue(key, out int slot)) Hits++;
                else
                {
                    slot = t.Slots.Count;
                    Store(t, slot, encode(key.ToArray()));
                    t.Slots.Add(key.ToArray(), slot);
                    Misses++;
                }
                index[i] = slot;
            }
            return t.Bank!.index_select(0, t.Index);
        }
    }

    private void Store(Table t, int slot, Tensor state)
    {
        if (t.Bank is null || t.Bank.shape[0] <= slot)
        {
            // Grow by doubling: states [rows, C], owned by the cache.
            long rows = Math.Max(slot + 1, Math.Min(Capacity, Math.Max(16, 2 * (t.Bank?.shape[0] ?? 0))));
            var bank = zeros(rows, Width).DetachFromDisposeScope();
            if (t.Bank is not null)
            {
                using var old = bank.narrow(0, 0, t.Bank.shape[0]);
                old.copy_(t.Bank);
                t.Bank.Dispose();
            }
            t.Bank = bank;
        }
        using var row = t.Bank.select(0, slot);
        using var _ = no_grad();
        row.copy_(state.reshape(Width));
    }

    /// <summary>Disposes the banks.</summary>
    public void Dispose()
    {
        lock (_lock)
            foreach (var t in _tables)
            {
                t.Clear();
                t.Bank?.Dispose();
                t.Index?.Dispose();
                t.Bank = t.Index = null;
            }
    }

    private sealed class Table
    {
        public Dictionary<long[], int> Slots { get; } = new(KeyComparer.Instance);

        public Tensor? Bank { get; set; }     // [rows, C]

        public Tensor? Index { get; set; }    // int64 [B], rewritten per lookup

        public void Clear() => Slots.Clear();
    }

    /// <summary>Keys compared by value, looked up by span without copying.</summary>
    internal sealed class KeyComparer : IEqualityComparer<long[]>, IAlternateEqualityComparer<ReadOnlySpan<long>, long[]>
    {
        public static KeyComparer Instance { get; } = new();

        public bool Equals(long[]? x, long[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(long[] key) => GetHashCode((ReadOnlySpan<long>)key);

        public bool Equals(ReadOnlySpan<long> alternate, long[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<long> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(MemoryMarshal.AsBytes(alternate));
            return hash.ToHashCode();
        }

        public long[] Create(ReadOnlySpan<long> alternate) => alternate.ToArray();
    }
}

/// <summary>Rows of a key matrix grouped by value.</summary>
internal static class DistinctKeys
{
    /// <summary>
    /// For keys [B, <paramref name="width"/>] (row-major): the first row of each distinct key, in order of first appearance
    /// ([U]), and each row's index into them ([B]).
    /// </summary>
    public static (long[] First, long[] Inverse) Find(ReadOnlySpan<long> keys, int width)
    {
        int rows = keys.Length / width;
        var index = new Dictionary<long[], int>(ActingCache.KeyComparer.Instance).GetAlternateLookup<ReadOnlySpan<long>>();
        var first = new List<long>();
        var inverse = new long[rows];
        for (int i = 0; i < rows; i++)
        {
            var key = keys.Slice(i * width, width);
            if (!index.TryGetValue(key, out int k))
            {
                k = first.Count;
                index[key] = k;
                first.Add(i);
            }
            inverse[i] = k;
        }
        return ([.. first], inverse);
    }
}
