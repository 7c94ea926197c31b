using RLAgents.Environments.Configuration;

namespace RLAgents.Environments.Wrappers;

/// <summary>
/// What the image wrappers share: which modalities of an observation are images, the space with
/// some modalities replaced, and copying the untouched modalities from the inner observation.
/// An image is a uint8 box [H, W, C] (channels last, as Minigrid and Gymnasium emit them) or
/// [H, W] (one channel); a pixel image also has bounds 0..255 on every element.
/// </summary>
public static class ImageModalities
{
    /// <summary>Height, width and channels of an image space ([H, W] counts as one channel); null when <paramref name="space"/> is not a uint8 image.</summary>
    public static (int Height, int Width, int Channels)? Shape(Space space) => space switch
    {
        BoxSpace { DType: DType.UInt8, Shape: [int h, int w, int c] } => (h, w, c),
        BoxSpace { DType: DType.UInt8, Shape: [int h, int w] } => (h, w, 1),
        _ => null,
    };

    /// <summary>True when <paramref name="space"/> is a uint8 image whose every element is bounded by 0..255 (pixels, not symbolic codes).</summary>
    public static bool IsPixelImage(Space space)
    {
        if (Shape(space) is null) return false;
        var box = (BoxSpace)space;
        foreach (float l in box.Low) if (l != 0) return false;
        foreach (float h in box.High) if (h != 255) return false;
        return true;
    }

    /// <summary>
    /// Indices of the modalities a wrapper transforms: the named ones, or when
    /// <paramref name="names"/> is empty every modality that <paramref name="problem"/> accepts
    /// (it returns null for a fitting modality and otherwise why it does not fit). Mistakes throw
    /// <see cref="ConfigurationException"/> naming <paramref name="path"/><c>.modalities[i]</c>.
    /// </summary>
    public static int[] Select(ObservationSpace space, IReadOnlyList<string>? names, Func<Modality, string?> problem, string path)
    {
        if (names is null || names.Count == 0)
        {
            var fitting = Enumerable.Range(0, space.Count).Where(m => problem(space[m]) is null).ToArray();
            if (fitting.Length == 0)
                throw new ConfigurationException($"{path}.modalities", $"no modality fits ({string.Join("; ", space.Modalities.Select(m => $"{m.Name}: {problem(m)}"))})");
            return fitting;
        }
        var chosen = new List<int>();
        for (int i = 0; i < names.Count; i++)
        {
            string at = $"{path}.modalities[{i}]";
            if (!space.TryGetIndex(names[i], out int m))
                throw new ConfigurationException(at, $"no modality '{names[i]}'; this observation has: {string.Join(", ", space.Modalities.Select(x => x.Name))}");
            if (chosen.Contains(m)) throw new ConfigurationException(at, $"'{names[i]}' is listed twice");
            if (problem(space[m]) is { } why) throw new ConfigurationException(at, $"'{names[i]}' ({space[m].Space}) {why}");
            chosen.Add(m);
        }
        return [.. chosen];
    }

    /// <summary>The space with modality <c>indices[i]</c> given <c>spaces[i]</c> (same names, same order).</summary>
    public static ObservationSpace Replace(ObservationSpace space, ReadOnlySpan<int> indices, ReadOnlySpan<BoxSpace> spaces)
    {
        var modalities = space.Modalities.ToArray();
        for (int i = 0; i < indices.Length; i++) modalities[indices[i]] = new Modality(modalities[indices[i]].Name, spaces[i]);
        return new ObservationSpace(modalities);
    }

    /// <summary>
    /// Copies modality m of <paramref name="source"/> to modality m of <paramref name="destination"/>
    /// for every m below <paramref name="source"/>'s count that <paramref name="skip"/> does not mark.
    /// </summary>
    public static void CopyOthers(Observation source, Observation destination, ReadOnlySpan<bool> skip)
    {
        var space = source.Space;
        for (int m = 0; m < space.Count; m++)
        {
            if (skip[m]) continue;
            switch (space[m].Storage)
            {
                case ModalityStorage.Float32: source.Floats(m).CopyTo(destination.Floats(m)); break;
                case ModalityStorage.UInt8: source.Bytes(m).CopyTo(destination.Bytes(m)); break;
                case ModalityStorage.Int32: destination.SetInt(m, source.GetInt(m)); break;
                default: destination.SetText(m, source.GetText(m)); break;
            }
        }
    }

    /// <summary>A mask over <paramref name="count"/> modalities marking <paramref name="indices"/>.</summary>
    public static bool[] Mask(int count, ReadOnlySpan<int> indices)
    {
        var mask = new bool[count];
        foreach (int m in indices) mask[m] = true;
        return mask;
    }
}
