using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs.Tests;

/// <summary>Headless Chromium for viewer tests: screenshots, DOM dumps, and a minimal DevTools-protocol client for clicks.</summary>
internal static class Chromium
{
    private static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--mute-audio",
    ];

    private static readonly Lazy<string> Installed = new(() =>
    {
        try
        {
            return ChromiumInstaller.ForThisMachine().Ensure();
        }
        catch (InvalidOperationException e)
        {
            Assert.Fail(e.Message);
            return "";
        }
    });

    /// <summary>Debian's Chromium; installed on first use when missing and this process can (see <see cref="ChromiumInstaller"/>).</summary>
    public static string Executable() => Installed.Value;

    private static Process Start(IEnumerable<string> args, out TempDirectory profile)
    {
        profile = new TempDirectory();
        var psi = new ProcessStartInfo(Executable()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var f in Flags) psi.ArgumentList.Add(f);
        psi.ArgumentList.Add("--user-data-dir=" + profile.Path);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static string Run(IEnumerable<string> args)
    {
        using var p = Start(args, out var profile);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(90_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("Chromium did not finish within 90 s.");
        }
        profile.Dispose();
        Assert.True(p.ExitCode == 0, $"Chromium exited with {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    public static void Screenshot(string url, string png, int width, int height) =>
        Run([$"--screenshot={png}", $"--window-size={width},{height}", url]);

    public static string DumpDom(string url, int virtualTimeMs) =>
        Run([$"--virtual-time-budget={virtualTimeMs}", "--dump-dom", url]);

    /// <summary>A page driven over the DevTools protocol (one WebSocket, sequential commands).</summary>
    public sealed class Session : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly TempDirectory _profile;
        private readonly ClientWebSocket _ws = new();
        private int _id;

        private Session(Process process, TempDirectory profile)
        {
            _process = process;
            _profile = profile;
        }

        public static async Task<Session> OpenAsync(string url, int width = 1000, int height = 700)
        {
            var p = Start(["--remote-debugging-port=0", $"--window-size={width},{height}", url], out var profile);
            var s = new Session(p, profile);
            // Chromium writes the port it chose into DevToolsActivePort in the profile.
            string portFile = profile.Combine("DevToolsActivePort");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!File.Exists(portFile) || File.ReadAllText(portFile).Split('\n').Length < 2)
            {
                if (DateTime.UtcNow > deadline || p.HasExited) Assert.Fail("Chromium did not open its DevTools port.");
                await Task.Delay(100);
            }
            int port = int.Parse(File.ReadAllText(portFile).Split('\n')[0], System.Globalization.CultureInfo.InvariantCulture);
            using var http = new HttpClient();
            string? wsUrl = null;
            while (wsUrl is null)
            {
                var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
                wsUrl = targets.FirstOrDefault(t => (string?)t!["type"] == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
                if (wsUrl is null) await Task.Delay(100);
                if (DateTime.UtcNow > deadline) Assert.Fail("Chromium opened no page target.");
            }
            await s._ws.ConnectAsync(new Uri(wsUrl), CancellationToken.None);
            // The page target starts on about:blank, whose readyState is already "complete": wait for
            // our document itself to have loaded.
            string loaded = $"location.href === {System.Text.Json.JsonSerializer.Serialize(url)} && document.readyState === 'complete'";
            while (await s.EvaluateAsync(loaded) != "true")
            {
                if (DateTime.UtcNow > deadline) Assert.Fail($"Chromium did not load {url}.");
                await Task.Delay(50);
            }
            return s;
        }

        public async Task<JsonNode> SendAsync(string method, JsonObject? parameters = null)
        {
            int id = ++_id;
            var msg = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
            await _ws.SendAsync(Encoding.UTF8.GetBytes(msg.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[1 << 20];
            while (true)
            {
                using var ms = new MemoryStream();
                WebSocketReceiveResult r;
                do
                {
                    r = await _ws.ReceiveAsync(buffer, CancellationToken.None);
                    ms.Write(buffer, 0, r.Count);
                } while (!r.EndOfMessage);
                var node = JsonNode.Parse(ms.ToArray())!;
                if (node["id"]?.GetValue<int>() != id) continue; // events
                if (node["error"] is { } err) throw new InvalidOperationException($"{method}: {err.ToJsonString()}");
                return node["result"]!;
            }
        }

        public async Task<string> EvaluateAsync(string expression)
        {
            var r = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = $"(async () => String(await ({expression})))()", ["returnByValue"] = true, ["awaitPromise"] = true });
            if (r["exceptionDetails"] is { } ex) return "exception: " + ex.ToJsonString();
            return r["result"]?["value"] is JsonValue v ? v.GetValue<string>() : "";
        }

        /// <summary>A real mouse click (press and release) at the centre of the element.</summary>
        public async Task ClickAsync(string selector)
        {
            string rect = await EvaluateAsync($"JSON.stringify(document.querySelector('{selector}').getBoundingClientRect())");
            using var doc = JsonDocument.Parse(rect);
            double x = doc.RootElement.GetProperty("x").GetDouble() + doc.RootElement.GetProperty("width").GetDouble() / 2;
            double y = doc.RootElement.GetProperty("y").GetDouble() + doc.RootElement.GetProperty("height").GetDouble() / 2;
            foreach (var type in new[] { "mousePressed", "mouseReleased" })
                await SendAsync("Input.dispatchMouseEvent", new JsonObject { ["type"] = type, ["x"] = x, ["y"] = y, ["button"] = "left", ["clickCount"] = 1 });
        }

        public async ValueTask DisposeAsync()
        {
            _ws.Dispose();
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
            try { _profile.Dispose(); } catch (IOException) { /* the browser may still release files */ }
        }
    }
}
