using System.Buffers.Binary;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;
using RLAgents.EpisodeLogs.Rendering;

namespace RLAgents.EpisodeLogs.Tests.Rendering;

/// <summary>The HTML viewer, PNG frames and GIF in a real browser (Debian's chromium, headless).</summary>
public sealed class ViewerBrowserTests
{
    private static (string Html, RenderedEpisode R) Viewer(int frameDelayMs = 100)
    {
        // Episode 1 is played by a random policy: long enough to step through.
        string path = GridWorldLogTests.RecordLevel("BabyAI-GoToLocal-v0", 2, seed: 6);
        var log = EpisodeLogReader.ReadAll(path);
        var r = new EpisodeRenderer().Render(log.Header, log.Episodes[1]);
        Assert.True(r.Episode.Length >= 6, $"episode 1 has only {r.Episode.Length} steps");
        string html = Path.ChangeExtension(path, ".html");
        HtmlViewer.Write(html, r, frameDelayMs);
        return (html, r);
    }

    [Fact]
    public void ScreenshotsOfTwoStepsDiffer()
    {
        var (html, r) = Viewer();
        string a = Path.ChangeExtension(html, ".0.png"), b = Path.ChangeExtension(html, ".last.png");
        Chromium.Screenshot(new Uri(html).AbsoluteUri + "#step=0", a, 900, 700);
        Chromium.Screenshot(new Uri(html).AbsoluteUri + $"#step={r.Episode.Length}", b, 900, 700);
        byte[] pa = File.ReadAllBytes(a), pb = File.ReadAllBytes(b);
        Assert.Equal(900, BinaryPrimitives.ReadInt32BigEndian(pa.AsSpan(16)));
        Assert.Equal(700, BinaryPrimitives.ReadInt32BigEndian(pa.AsSpan(20)));
        Assert.True(pa.Length > 5000, "the screenshot should show the frame, not an empty page");
        Assert.NotEqual(pa, pb);
    }

    [Fact]
    public void AutoplayAdvancesTheStep()
    {
        var (html, r) = Viewer();
        string dom = Chromium.DumpDom(new Uri(html).AbsoluteUri + "?autoplay=1", virtualTimeMs: 2000);
        var m = System.Text.RegularExpressions.Regex.Match(dom, "data-step=\"(\\d+)\"");
        Assert.True(m.Success, "the viewer did not run");
        Assert.True(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= Math.Min(5, r.Episode.Length), dom[..Math.Min(400, dom.Length)]);
    }

    [Fact]
    public async Task ClicksStepPlayAndPauseAndImagesDecode()
    {
        // Slow playback: the pause click must land long before playback reaches the end and stops by itself.
        var (html, r) = Viewer(frameDelayMs: 500);
        await using var page = await Chromium.Session.OpenAsync(new Uri(html).AbsoluteUri);
        Assert.Equal("0", await page.EvaluateAsync("document.body.dataset.step"));
        Assert.Equal(r.Episode.Observations[2].Texts![0], await page.EvaluateAsync("document.querySelector('#text-mission div:last-child').textContent"));
        // The browser's own PNG decoder reads our frames.
        Assert.Equal(r.Frames[0].Width.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.EvaluateAsync("document.getElementById('frame').naturalWidth"));

        await page.ClickAsync("#next");
        await page.ClickAsync("#next");
        Assert.Equal("2", await page.EvaluateAsync("document.body.dataset.step"));
        Assert.Equal($"step 2 / {r.Episode.Length}", await page.EvaluateAsync("document.getElementById('step-label').textContent"));
        await page.ClickAsync("#prev");
        Assert.Equal("1", await page.EvaluateAsync("document.body.dataset.step"));
        string action = r.ActionNames[r.Episode.Actions[1]];
        Assert.StartsWith(action, await page.EvaluateAsync("document.getElementById('action').textContent"));
        Assert.Equal("7", await page.EvaluateAsync("document.querySelectorAll('#probs .bar').length"));

        await page.ClickAsync("#play");
        Assert.Equal("true", await page.EvaluateAsync("document.body.dataset.playing"));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (int.Parse(await page.EvaluateAsync("document.body.dataset.step"), System.Globalization.CultureInfo.InvariantCulture) < 3)
            Assert.True(DateTime.UtcNow < deadline, "playing did not advance the step");
        Assert.True(int.Parse(await page.EvaluateAsync("document.body.dataset.step"), System.Globalization.CultureInfo.InvariantCulture) < r.Episode.Length, "playback reached the end before the pause click");
        await page.ClickAsync("#play");
        Assert.Equal("false", await page.EvaluateAsync("document.body.dataset.playing"));
        string paused = await page.EvaluateAsync("document.body.dataset.step");
        await page.EvaluateAsync("new Promise(r => setTimeout(r, 1200))");
        Assert.Equal(paused, await page.EvaluateAsync("document.body.dataset.step"));

        // The browser's GIF decoder reads our animation.
        string gif = Convert.ToBase64String(GifEncoder.Encode(r.Frames, 100));
        string size = await page.EvaluateAsync($"new Promise((ok, fail) => {{ const i = new Image(); i.onload = () => ok(i.naturalWidth + 'x' + i.naturalHeight); i.onerror = () => fail('gif'); i.src = 'data:image/gif;base64,{gif}'; }})");
        Assert.Equal($"{r.Frames[0].Width}x{r.Frames[0].Height}", size);
        // ...and draws its first frame with our pixels (exact palette: GridWorld tiles use few colours? compare a pixel).
        string pixel = await page.EvaluateAsync($"new Promise(ok => {{ const i = new Image(); i.onload = () => {{ const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight; const g = c.getContext('2d'); g.drawImage(i, 0, 0); ok(Array.from(g.getImageData(5, 5, 1, 1).data.slice(0, 3)).join(',')); }}; i.src = 'data:image/png;base64,{Convert.ToBase64String(PngEncoder.Encode(r.Frames[0]))}'; }})");
        int p = (5 * r.Frames[0].Width + 5) * 3;
        Assert.Equal($"{r.Frames[0].Pixels[p]},{r.Frames[0].Pixels[p + 1]},{r.Frames[0].Pixels[p + 2]}", pixel);
    }
}
