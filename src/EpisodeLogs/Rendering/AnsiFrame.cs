using System.Globalization;
using System.Text;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs.Rendering;

/// <summary>
/// An RGB frame as terminal text: each character is the upper half block <c>▀</c> coloured with two
/// pixels (24-bit ANSI foreground = upper, background = lower), after averaging the frame down so it
/// fits <c>maxColumns</c> characters.
/// </summary>
public static class AnsiFrame
{
    /// <summary>The frame as lines of ANSI-coloured half blocks, at most <paramref name="maxColumns"/> wide.</summary>
    public static string Render(RgbFrame frame, int maxColumns = 64)
    {
        frame.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(maxColumns, 1);
        int scale = Math.Max(1, (frame.Width + maxColumns - 1) / maxColumns);
        int w = frame.Width / scale, h = frame.Height / scale;
        if (w == 0 || h == 0) (w, h, scale) = (frame.Width, frame.Height, 1);
        // Block averages: [h, w, 3].
        var cells = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                {
                    int sum = 0;
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++)
                            sum += frame.Pixels[((y * scale + dy) * frame.Width + x * scale + dx) * 3 + c];
                    cells[(y * w + x) * 3 + c] = (byte)(sum / (scale * scale));
                }
        var sb = new StringBuilder();
        for (int y = 0; y < h; y += 2)
        {
            for (int x = 0; x < w; x++)
            {
                int top = (y * w + x) * 3;
                sb.Append(CultureInfo.InvariantCulture, $"\u001b[38;2;{cells[top]};{cells[top + 1]};{cells[top + 2]}m");
                if (y + 1 < h)
                {
                    int bottom = ((y + 1) * w + x) * 3;
                    sb.Append(CultureInfo.InvariantCulture, $"\u001b[48;2;{cells[bottom]};{cells[bottom + 1]};{cells[bottom + 2]}m");
                }
                else sb.Append("\u001b[49m");
                sb.Append('▀');
            }
            sb.Append("\u001b[0m\n");
        }
        return sb.ToString();
    }
}
