using System.Text;

namespace RLAgents.Environments.GridWorld;

/// <summary>
/// Renders an encoded 7×7 view as English, in the manner of BabyAI-Text: the nearest wall
/// straight ahead and to each side, then every visible object nearest first, then what the agent
/// carries. Example: "You see a wall 3 steps forward. You see a red ball 2 steps forward and 1
/// step left. You carry a blue key." Deterministic: a function of the image alone. The last
/// result is cached, so steps that leave the view unchanged allocate nothing.
/// </summary>
public sealed class ViewDescriber
{
    private const int S = GridConstants.ViewSize;
    private readonly StringBuilder _sb = new(256);
    private readonly byte[] _lastImage = new byte[GridConstants.ViewBytes];
    private string? _last;

    /// <summary>The description of <paramref name="image"/> (147 bytes, Minigrid view layout).</summary>
    public string Describe(ReadOnlySpan<byte> image)
    {
        if (image.Length != GridConstants.ViewBytes) throw new ArgumentException($"A view has {GridConstants.ViewBytes} bytes, not {image.Length}.", nameof(image));
        if (_last is not null && image.SequenceEqual(_lastImage)) return _last;
        image.CopyTo(_lastImage);
        _last = Build(image);
        return _last;
    }

    /// <summary>Builds the description without caching (pure function of the image).</summary>
    public static string DescribeOnce(ReadOnlySpan<byte> image) => new ViewDescriber().Describe(image);

    private string Build(ReadOnlySpan<byte> image)
    {
        var sb = _sb.Clear();
        // Nearest wall straight ahead (vx = 3), then along the agent's row to the left and right.
        for (int vy = S - 2; vy >= 0; vy--)
            if (TypeAt(image, S / 2, vy) == ObjectType.Wall) { Sentence(sb).Append("a wall "); Where(sb, S - 1 - vy, 0); break; }
        for (int vx = S / 2 - 1; vx >= 0; vx--)
            if (TypeAt(image, vx, S - 1) == ObjectType.Wall) { Sentence(sb).Append("a wall "); Where(sb, 0, vx - S / 2); break; }
        for (int vx = S / 2 + 1; vx < S; vx++)
            if (TypeAt(image, vx, S - 1) == ObjectType.Wall) { Sentence(sb).Append("a wall "); Where(sb, 0, vx - S / 2); break; }

        // Objects by increasing distance (forward + sideways), then nearer ahead, then left before right.
        for (int dist = 1; dist <= (S - 1) + S / 2; dist++)
            for (int f = 0; f <= Math.Min(dist, S - 1); f++)
            {
                int side = dist - f;
                if (side > S / 2) continue;
                for (int sign = -1; sign <= 1; sign += 2)
                {
                    if (side == 0 && sign > 0) continue;
                    int vx = S / 2 + sign * side, vy = S - 1 - f;
                    var t = TypeAt(image, vx, vy);
                    if (t is ObjectType.Unseen or ObjectType.Empty or ObjectType.Wall) continue;
                    Sentence(sb);
                    Noun(sb, image, vx, vy);
                    sb.Append(' ');
                    Where(sb, f, sign * side);
                }
            }

        if (sb.Length > 0) sb.Append('.');
        var carried = TypeAt(image, S / 2, S - 1);
        if (carried is not (ObjectType.Empty or ObjectType.Unseen))
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append("You carry ");
            Noun(sb, image, S / 2, S - 1);
            sb.Append('.');
        }
        return sb.Length == 0 ? "You see nothing." : sb.ToString();
    }

    private static StringBuilder Sentence(StringBuilder sb)
    {
        if (sb.Length > 0) sb.Append(". ");
        // A sentence is closed by the next one; the last "You see" sentence is closed after the loop.
        return sb.Append("You see ");
    }

    private static ObjectType TypeAt(ReadOnlySpan<byte> image, int vx, int vy) => (ObjectType)image[(vx * S + vy) * 3];

    private static void Noun(StringBuilder sb, ReadOnlySpan<byte> image, int vx, int vy)
    {
        int o = (vx * S + vy) * 3;
        var type = (ObjectType)image[o];
        string color = image[o + 1] <= (byte)GridColor.Grey ? ((GridColor)image[o + 1]).Name() : "odd";
        switch (type)
        {
            case ObjectType.Door:
                var state = (DoorState)image[o + 2];
                sb.Append(state == DoorState.Open ? "an open " : state == DoorState.Locked ? "a locked " : "a closed ").Append(color).Append(" door");
                break;
            case ObjectType.Goal: sb.Append("a goal"); break;
            case ObjectType.Lava: sb.Append("a lava tile"); break;
            case ObjectType.Floor: sb.Append("a ").Append(color).Append(" floor tile"); break;
            default: sb.Append("a ").Append(color).Append(' ').Append(type.Name()); break;
        }
    }

    private static void Where(StringBuilder sb, int forward, int lateral)
    {
        if (forward > 0) sb.Append(forward).Append(forward == 1 ? " step forward" : " steps forward");
        if (lateral != 0)
        {
            if (forward > 0) sb.Append(" and ");
            int n = Math.Abs(lateral);
            sb.Append(n).Append(n == 1 ? " step " : " steps ").Append(lateral < 0 ? "left" : "right");
        }
    }
}
