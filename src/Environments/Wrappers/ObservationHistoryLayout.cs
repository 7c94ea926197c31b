using RLAgents.Environments.Configuration;

namespace RLAgents.Environments.Wrappers;

/// <summary>One kept modality: where its current value and its history sit in the observation.</summary>
/// <param name="Name">The base modality's name.</param>
/// <param name="BaseIndex">Index of the base (current-step) modality.</param>
/// <param name="HistoryIndex">Index of <c>&lt;name&gt;_history</c>, shaped [K, ...base shape] (discrete: [K]).</param>
/// <param name="FrameSize">Elements per step (the base size; 1 for a discrete modality).</param>
/// <param name="Storage">Storage of the base modality.</param>
/// <param name="DiscreteStart">A discrete base's first value (history stores <c>value − start</c>); 0 otherwise.</param>
public sealed record ObservationHistoryEntry(string Name, int BaseIndex, int HistoryIndex, int FrameSize, ModalityStorage Storage, int DiscreteStart);

/// <summary>
/// The data layout of observation memory: for each kept modality <c>x</c> a modality
/// <c>x_history</c> holding its previous K values, most recent first (row k is step t−1−k), and
/// <c>history_mask</c> (uint8 [K], 1 where row k belongs to the current episode). Rows before the
/// episode's first step are zero and masked. Anchored memory (<see cref="Anchored"/>, mask named
/// <c>history_mask_anchored</c>) keeps the episode's first step in row K − 1 from the second step on,
/// and the most recent K − 1 steps in rows 0 … K − 2. uint8 bases keep uint8 history; float32 and discrete
/// bases get float32 history (discrete values shifted to start at 0). The layout is data, not a
/// network: encoders read it back from any space with <see cref="Find"/>.
/// </summary>
public sealed class ObservationHistoryLayout
{
    /// <summary>Name of the validity mask modality.</summary>
    public const string MaskName = "history_mask";

    /// <summary>Name of the validity mask of anchored memory (the name carries the layout, so a space read back keeps it).</summary>
    public const string AnchoredMaskName = "history_mask_anchored";

    /// <summary>Suffix of history modalities.</summary>
    public const string HistorySuffix = "_history";

    private ObservationHistoryLayout(ObservationSpace space, int steps, int maskIndex, ObservationHistoryEntry[] entries, bool anchored)
    {
        Space = space;
        Steps = steps;
        MaskIndex = maskIndex;
        Entries = entries;
        Anchored = anchored;
    }

    /// <summary>True when row K − 1 holds the episode's first step (see <see cref="ObservationHistoryOptions.Anchored"/>).</summary>
    public bool Anchored { get; }

    /// <summary>The full observation space (base modalities and memory).</summary>
    public ObservationSpace Space { get; }

    /// <summary>Previous steps K kept.</summary>
    public int Steps { get; }

    /// <summary>Index of <see cref="MaskName"/>.</summary>
    public int MaskIndex { get; }

    /// <summary>The kept modalities, in the order their history modalities appear.</summary>
    public IReadOnlyList<ObservationHistoryEntry> Entries { get; }

    /// <summary>The history modality name of <paramref name="baseName"/>.</summary>
    public static string HistoryName(string baseName) => baseName + HistorySuffix;

    /// <summary>True when modality <paramref name="m"/> of <see cref="Space"/> is memory (a history or the mask).</summary>
    public bool IsMemory(int m) => m == MaskIndex || Entries.Any(e => e.HistoryIndex == m);

    /// <summary>
    /// The layout that appends memory for <paramref name="modalities"/> (K = <paramref name="steps"/>)
    /// to <paramref name="inner"/>: the inner modalities keep their indices, then one history per
    /// kept modality, then the mask. Bad choices throw <see cref="ConfigurationException"/> naming
    /// <paramref name="path"/> (e.g. <c>env.memory.modalities[1]</c>).
    /// </summary>
    public static ObservationHistoryLayout Create(ObservationSpace inner, int steps, IReadOnlyList<string> modalities, string path = "env.memory", bool anchored = false)
    {
        if (steps < 1) throw new ConfigurationException($"{path}.steps", $"memory needs at least one previous step, got {steps}");
        if (anchored && steps < 2) throw new ConfigurationException($"{path}.steps", $"anchored memory needs at least 2 steps (the episode's first and the last), got {steps}");
        if (modalities.Count == 0) throw new ConfigurationException($"{path}.modalities", "name at least one modality to remember");
        var all = inner.Modalities.ToList();
        var entries = new List<ObservationHistoryEntry>();
        for (int i = 0; i < modalities.Count; i++)
        {
            string name = modalities[i];
            string at = $"{path}.modalities[{i}]";
            if (!inner.TryGetIndex(name, out int b))
                throw new ConfigurationException(at, $"no modality '{name}'; this observation has: {string.Join(", ", inner.Modalities.Select(m => m.Name))}");
            if (entries.Any(e => e.BaseIndex == b)) throw new ConfigurationException(at, $"'{name}' is listed twice");
            var mod = inner[b];
            string historyName = HistoryName(name);
            if (inner.TryGetIndex(historyName, out _) || inner.TryGetIndex(MaskName, out _) || inner.TryGetIndex(AnchoredMaskName, out _))
                throw new ConfigurationException(at, $"the observation already has memory ('{historyName}' or '{MaskName}'); wrap it once");
            var historySpace = mod.Space switch
            {
                BoxSpace box => Repeat(box, steps),
                DiscreteSpace d => new BoxSpace(0f, d.N - 1, [steps]),
                _ => throw new ConfigurationException(at, $"'{name}' is {mod.Space}; memory keeps image, vector and discrete modalities, not text"),
            };
            entries.Add(new ObservationHistoryEntry(name, b, all.Count, mod.Storage == ModalityStorage.Int32 ? 1 : mod.Size, mod.Storage,
                mod.Space is DiscreteSpace ds ? ds.Start : 0));
            all.Add(new Modality(historyName, historySpace));
        }
        int maskIndex = all.Count;
        all.Add(new Modality(anchored ? AnchoredMaskName : MaskName, new BoxSpace(0f, 1f, [steps], DType.UInt8)));
        return new ObservationHistoryLayout(new ObservationSpace([.. all]), steps, maskIndex, [.. entries], anchored);
    }

    /// <summary>
    /// Reads the memory layout of <paramref name="space"/>: null when it has no <see cref="MaskName"/>;
    /// throws <see cref="ArgumentException"/> when the mask and the history modalities disagree.
    /// </summary>
    public static ObservationHistoryLayout? Find(ObservationSpace space)
    {
        bool anchored = space.TryGetIndex(AnchoredMaskName, out int maskIndex);
        if (!anchored && !space.TryGetIndex(MaskName, out maskIndex)) return null;
        if (space[maskIndex].Space is not BoxSpace { DType: DType.UInt8 } mask || mask.Shape.Length != 1)
            throw new ArgumentException($"Modality '{space[maskIndex].Name}' must be uint8 [K], got {space[maskIndex].Space}.");
        int steps = mask.Shape[0];
        var entries = new List<ObservationHistoryEntry>();
        for (int m = 0; m < space.Count; m++)
        {
            var mod = space[m];
            if (!mod.Name.EndsWith(HistorySuffix, StringComparison.Ordinal)) continue;
            string name = mod.Name[..^HistorySuffix.Length];
            if (!space.TryGetIndex(name, out int b)) continue; // a plain modality that happens to end in _history
            var baseMod = space[b];
            bool fits = mod.Space is BoxSpace hist && hist.Shape.Length >= 1 && hist.Shape[0] == steps && baseMod.Space switch
            {
                BoxSpace box => hist.DType == box.DType && hist.Size == steps * box.Size,
                DiscreteSpace => hist.DType == DType.Float32 && hist.Size == steps,
                _ => false,
            };
            if (!fits) throw new ArgumentException($"Modality '{mod.Name}' ({mod.Space}) is not a {steps}-step history of '{name}' ({baseMod.Space}).");
            entries.Add(new ObservationHistoryEntry(name, b, m, baseMod.Storage == ModalityStorage.Int32 ? 1 : baseMod.Size, baseMod.Storage,
                baseMod.Space is DiscreteSpace ds ? ds.Start : 0));
        }
        if (entries.Count == 0) throw new ArgumentException($"The observation has '{MaskName}' but no '<modality>{HistorySuffix}' of one of its modalities.");
        return new ObservationHistoryLayout(space, steps, maskIndex, [.. entries], anchored);
    }

    /// <summary>Starts an episode in slot <paramref name="slot"/>: every history row zero and masked.</summary>
    public void Clear(ObservationBatch batch, int slot)
    {
        int k = Steps;
        foreach (var e in Entries)
        {
            int n = k * e.FrameSize;
            if (e.Storage == ModalityStorage.UInt8) Array.Clear(batch.Bytes(e.HistoryIndex), slot * n, n);
            else Array.Clear(batch.Floats(e.HistoryIndex), slot * n, n);
        }
        Array.Clear(batch.Bytes(MaskIndex), slot * k, k);
    }

    /// <summary>
    /// Moves slot <paramref name="slot"/>'s current values into history row 0 (older rows shift by
    /// one, the oldest drops out) before the slot's base modalities are overwritten with the next step.
    /// </summary>
    public void Push(ObservationBatch batch, int slot)
    {
        int k = Steps;
        var mask = batch.Bytes(MaskIndex);
        // Anchored: rows 0 … K − 2 roll and row K − 1 is written once, by the episode's first push (its first step).
        bool first = Anchored && mask[slot * k + k - 1] == 0;
        int rolling = Anchored ? k - 1 : k;
        foreach (var e in Entries)
        {
            int s = e.FrameSize, start = slot * k * s;
            switch (e.Storage)
            {
                case ModalityStorage.UInt8:
                {
                    var h = batch.Bytes(e.HistoryIndex);
                    Array.Copy(h, start, h, start + s, (rolling - 1) * s); // overlapping copy: memmove semantics
                    Array.Copy(batch.Bytes(e.BaseIndex), slot * s, h, start, s);
                    if (first) Array.Copy(batch.Bytes(e.BaseIndex), slot * s, h, start + (k - 1) * s, s);
                    break;
                }
                case ModalityStorage.Float32:
                {
                    var h = batch.Floats(e.HistoryIndex);
                    Array.Copy(h, start, h, start + s, (rolling - 1) * s);
                    Array.Copy(batch.Floats(e.BaseIndex), slot * s, h, start, s);
                    if (first) Array.Copy(batch.Floats(e.BaseIndex), slot * s, h, start + (k - 1) * s, s);
                    break;
                }
                default:
                {
                    var h = batch.Floats(e.HistoryIndex);
                    Array.Copy(h, start, h, start + 1, rolling - 1);
                    h[start] = batch.Ints(e.BaseIndex)[slot] - e.DiscreteStart;
                    if (first) h[start + k - 1] = h[start];
                    break;
                }
            }
        }
        Array.Copy(mask, slot * k, mask, slot * k + 1, rolling - 1);
        mask[slot * k] = 1;
        if (first) mask[slot * k + k - 1] = 1;
    }

    /// <summary>
    /// Copies the modalities <paramref name="source"/> has (an observation without memory whose
    /// modalities are the first ones of <see cref="Space"/>) into slot <paramref name="slot"/>.
    /// </summary>
    public static void CopyBase(ObservationBatch source, int sourceSlot, ObservationBatch destination, int slot)
    {
        var space = source.Space;
        for (int m = 0; m < space.Count; m++)
        {
            int size = space[m].Size;
            switch (space[m].Storage)
            {
                case ModalityStorage.Float32: Array.Copy(source.Floats(m), sourceSlot * size, destination.Floats(m), slot * size, size); break;
                case ModalityStorage.UInt8: Array.Copy(source.Bytes(m), sourceSlot * size, destination.Bytes(m), slot * size, size); break;
                case ModalityStorage.Int32: destination.Ints(m)[slot] = source.Ints(m)[sourceSlot]; break;
                default: destination.Texts(m)[slot] = source.Texts(m)[sourceSlot]; break;
            }
        }
    }

    /// <summary>Copies the modalities of <paramref name="source"/> (the first ones of <see cref="Space"/>) into slot <paramref name="slot"/>.</summary>
    public static void CopyBase(Observation source, ObservationBatch destination, int slot)
    {
        var space = source.Space;
        for (int m = 0; m < space.Count; m++)
        {
            int size = space[m].Size;
            switch (space[m].Storage)
            {
                case ModalityStorage.Float32: source.Floats(m).CopyTo(destination.Floats(m).AsSpan(slot * size, size)); break;
                case ModalityStorage.UInt8: source.Bytes(m).CopyTo(destination.Bytes(m).AsSpan(slot * size, size)); break;
                case ModalityStorage.Int32: destination.Ints(m)[slot] = source.GetInt(m); break;
                default: destination.Texts(m)[slot] = source.GetText(m); break;
            }
        }
    }

    /// <summary>
    /// Writes the memory of one episode's observations in order (each of <see cref="Space"/>, its
    /// non-memory modalities filled, e.g. demonstrations rebuilt from a file): step t gets steps
    /// t−1 … t−K, masked before the episode's start — what the wrappers give an agent playing it.
    /// </summary>
    public void FillEpisode(IReadOnlyList<Observation> episode)
    {
        var slot = new ObservationBatch(Space, 1);
        for (int t = 0; t < episode.Count; t++)
        {
            if (!episode[t].Space.SameLayout(Space)) throw new ArgumentException($"Step {t} of the episode does not have the memory layout {Space}.", nameof(episode));
            if (t == 0) Clear(slot, 0);
            else Push(slot, 0);
            WriteNonMemory(episode[t], slot);
            slot.Get(0, episode[t]);
        }
    }

    private void WriteNonMemory(Observation source, ObservationBatch destination)
    {
        for (int m = 0; m < Space.Count; m++)
        {
            if (IsMemory(m)) continue;
            switch (Space[m].Storage)
            {
                case ModalityStorage.Float32: source.Floats(m).CopyTo(destination.Floats(m)); break;
                case ModalityStorage.UInt8: source.Bytes(m).CopyTo(destination.Bytes(m)); break;
                case ModalityStorage.Int32: destination.Ints(m)[0] = source.GetInt(m); break;
                default: destination.Texts(m)[0] = source.GetText(m); break;
            }
        }
    }

    private static BoxSpace Repeat(BoxSpace box, int steps)
    {
        // Zero-filled rows (before the episode's start) must lie inside the bounds.
        int n = box.Size;
        var low = new float[steps * n];
        var high = new float[steps * n];
        for (int k = 0; k < steps; k++)
            for (int i = 0; i < n; i++)
            {
                low[k * n + i] = Math.Min(0f, box.Low[i]);
                high[k * n + i] = Math.Max(0f, box.High[i]);
            }
        return new BoxSpace(low, high, [steps, .. box.ShapeArray()], box.DType);
    }
}
