using System.Numerics;
using System.Runtime.CompilerServices;

namespace RLAgents.Environments.GridWorld;

/// <summary>
/// The agent's 7×7 egocentric view, computed as Minigrid's <c>gen_obs_grid</c> + <c>encode</c>:
/// the square ahead of the agent, rotated so the agent faces up and sits at view cell (3, 6);
/// occlusion by walls and closed doors as <c>Grid.process_vis</c> (see-through-walls off); cells
/// not visible encode as (0, 0, 0), visible empty cells as (1, 0, 0); the agent's own cell shows
/// what it carries, or empty. View cell k = vx*7 + vy occupies bytes [3k, 3k+3) of the image.
/// </summary>
public static class EgocentricView
{
    private const int S = GridConstants.ViewSize;
    private const int Cells = S * S;

    /// <summary>View index of the agent's cell: (vx, vy) = (3, 6).</summary>
    public const int AgentCell = (S / 2) * S + (S - 1);

    // World offset (dx, dy) of view cell k for each direction: world = agent + f*(6-vy) + r*(vx-3),
    // f = DIR_TO_VEC[dir], r = (-f.y, f.x) (Minigrid's right_vec).
    private static readonly int[] s_dx = new int[4 * Cells];
    private static readonly int[] s_dy = new int[4 * Cells];

    static EgocentricView()
    {
        for (int d = 0; d < 4; d++)
        {
            int fx = GridConstants.DirX[d], fy = GridConstants.DirY[d];
            int rx = -fy, ry = fx;
            for (int vx = 0; vx < S; vx++)
                for (int vy = 0; vy < S; vy++)
                {
                    int k = vx * S + vy;
                    s_dx[d * Cells + k] = fx * (S - 1 - vy) + rx * (vx - S / 2);
                    s_dy[d * Cells + k] = fy * (S - 1 - vy) + ry * (vx - S / 2);
                }
        }
    }

    /// <summary>World offset from the agent of view cell <paramref name="k"/> when facing <paramref name="dir"/>.</summary>
    public static (int Dx, int Dy) WorldOffset(int dir, int k) => (s_dx[dir * Cells + k], s_dy[dir * Cells + k]);

    /// <summary>Offsets into a grid's padded packed array for each direction and view cell, [4 × 49].</summary>
    internal static int[] PackedOffsets(int paddedWidth)
    {
        var offsets = new int[4 * Cells];
        for (int i = 0; i < offsets.Length; i++) offsets[i] = s_dy[i] * paddedWidth + s_dx[i];
        return offsets;
    }

    /// <summary>
    /// Writes the 147-byte view and returns the visibility mask (bit k set when view cell k is
    /// visible). <paramref name="offsets"/> come from <see cref="PackedOffsets"/> for this grid.
    /// </summary>
    [SkipLocalsInit]
    internal static ulong Write(Grid grid, int[] offsets, int agentX, int agentY, int agentDir, WorldObject? carrying, Span<byte> image)
    {
        if (image.Length < GridConstants.ViewBytes) throw new ArgumentException($"The view needs {GridConstants.ViewBytes} bytes.", nameof(image));
        Span<uint> cells = stackalloc uint[Cells];
        uint[] packed = grid.Packed;
        int origin = grid.PackedIndex(agentX, agentY);
        ReadOnlySpan<int> off = offsets.AsSpan(agentDir * Cells, Cells);
        for (int k = 0; k < Cells; k++) cells[k] = packed[origin + off[k]];

        ulong mask = Visibility(cells);

        ref byte dst = ref image[0];
        for (int k = 0; k < Cells; k++)
        {
            uint p = (mask >> k & 1) != 0 ? cells[k] : 0u;
            int o = k * 3;
            Unsafe.Add(ref dst, o) = (byte)p;
            Unsafe.Add(ref dst, o + 1) = (byte)(p >> 8);
            Unsafe.Add(ref dst, o + 2) = (byte)(p >> 16);
        }
        // The agent sees what it carries in its own cell (Minigrid overwrites that cell after occlusion).
        uint a = carrying is null ? Grid.PackedEmpty : Grid.Pack(carrying);
        image[AgentCell * 3] = (byte)a;
        image[AgentCell * 3 + 1] = (byte)(a >> 8);
        image[AgentCell * 3 + 2] = (byte)(a >> 16);
        return mask;
    }

    /// <summary>
    /// Minigrid's <c>process_vis</c> on the rotated 7×7 window (cell k = i*7 + j): starting from
    /// the agent's cell, rows are swept from the agent's row upwards; within a row, sight spreads
    /// rightwards then leftwards from visible see-through cells, and each such cell also lights
    /// the cell above it and the diagonal one in the sweep direction.
    /// </summary>
    internal static ulong Visibility(ReadOnlySpan<uint> cells)
    {
        ulong mask = 1UL << AgentCell;
        for (int j = S - 1; j >= 0; j--)
        {
            for (int i = 0; i < S - 1; i++)
            {
                int k = i * S + j;
                if ((mask >> k & 1) == 0 || (cells[k] & Grid.OpaqueBit) != 0) continue;
                mask |= 1UL << (k + S);
                if (j > 0) mask |= (1UL << (k + S - 1)) | (1UL << (k - 1));
            }
            for (int i = S - 1; i > 0; i--)
            {
                int k = i * S + j;
                if ((mask >> k & 1) == 0 || (cells[k] & Grid.OpaqueBit) != 0) continue;
                mask |= 1UL << (k - S);
                if (j > 0) mask |= (1UL << (k - S - 1)) | (1UL << (k - 1));
            }
        }
        return mask;
    }

    /// <summary>Number of visible cells in a mask (for diagnostics and tests).</summary>
    public static int CountVisible(ulong mask) => BitOperations.PopCount(mask);
}
