using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RLAgents.Environments.Vector;

/// <summary>
/// Moves data between the batched envs' arrays and four-lane float64 vectors: actions in, float32
/// observation columns and flags out. Env-major layouts (env i's elements contiguous) are read
/// and written lane by lane.
/// </summary>
internal static class Lanes
{
    /// <summary>True when the four-lane float64 paths run in hardware (else the exact scalar path is used).</summary>
    public static bool Accelerated => Vector256.IsHardwareAccelerated;

    /// <summary>Integers [i, i+4) as doubles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Doubles(ReadOnlySpan<int> values, int i) => Vector256.Create(values[i], values[i + 1], values[i + 2], (double)values[i + 3]);

    /// <summary>Floats [i, i+4) as doubles (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Doubles(ReadOnlySpan<float> values, int i)
    {
        var v = Vector128.Create(values.Slice(i, 4));
        return Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v));
    }

    /// <summary>Each lane rounded to float32 and widened back (numpy's <c>astype(float32)</c> of a float64 state).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> RoundToSingle(Vector256<double> v)
    {
        var f = Vector128.Narrow(v.GetLower(), v.GetUpper());
        return Vector256.Create(Vector128.WidenLower(f), Vector128.WidenUpper(f));
    }

    /// <summary>Writes lane l as float32 to <c>obs[(env0 + l) * stride + column]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreColumn(Vector256<double> v, float[] obs, int env0, int column, int stride)
    {
        int o = env0 * stride + column;
        obs[o] = (float)v.GetElement(0);
        obs[o + stride] = (float)v.GetElement(1);
        obs[o + 2 * stride] = (float)v.GetElement(2);
        obs[o + 3 * stride] = (float)v.GetElement(3);
    }

    /// <summary>Writes the four lanes of a comparison mask as bools at [i, i+4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFlags(Vector256<double> mask, Span<bool> flags, int i)
    {
        uint bits = mask.ExtractMostSignificantBits();
        flags[i] = (bits & 1) != 0;
        flags[i + 1] = (bits & 2) != 0;
        flags[i + 2] = (bits & 4) != 0;
        flags[i + 3] = (bits & 8) != 0;
    }
}
