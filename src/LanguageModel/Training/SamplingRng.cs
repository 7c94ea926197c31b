using System.Numerics;

namespace RLAgents.LanguageModel.Training;

/// <summary>
/// xoshiro256** seeded through SplitMix64, with the same stream and seed derivation as
/// RLAgents.Environments.Rng (this library must not depend on the environments assembly).
/// Used for batch sampling; its state goes into checkpoints so a resumed run draws the same batches.
/// </summary>
internal sealed class SamplingRng
{
    private ulong _s0, _s1, _s2, _s3;

    public SamplingRng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>Child seed for a purpose and index (FNV-1a of the purpose, then SplitMix64), as Rng.DeriveSeed.</summary>
    public static ulong DeriveSeed(ulong parent, string purpose, long index = 0)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (char c in purpose) { h ^= c; h *= 0x100000001b3UL; }
        ulong x = parent ^ h ^ (unchecked((ulong)index) * 0x9E3779B97F4A7C15UL);
        SplitMix64(ref x);
        return SplitMix64(ref x);
    }

    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform integer in [0, n) without modulo bias (Lemire).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "Need n > 0.");
        ulong m = (NextUInt64() >> 32) * (ulong)(uint)n;
        uint low = (uint)m;
        if (low < (uint)n)
        {
            uint threshold = (uint)(-n) % (uint)n;
            while (low < threshold)
            {
                m = (NextUInt64() >> 32) * (ulong)(uint)n;
                low = (uint)m;
            }
        }
        return (int)(m >> 32);
    }

    public ulong[] GetState() => [_s0, _s1, _s2, _s3];

    public void SetState(IReadOnlyList<ulong> state)
    {
        if (state.Count != 4 || (state[0] | state[1] | state[2] | state[3]) == 0) throw new ArgumentException("Expected four words, not all zero.", nameof(state));
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
