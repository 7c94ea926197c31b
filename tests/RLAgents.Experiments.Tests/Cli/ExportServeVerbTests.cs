using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RLAgents.LanguageModel.Onnx;
using RLAgents.Policies.Export;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary><c>rlagents export</c> and <c>rlagents serve</c> on a tiny CartPole run, and their one-line errors.</summary>
public class ExportServeVerbTests
{
    private static string TrainTinyCartPole()
    {
        string output = TempDirectory.ForProcess.NewDirectory();
        var run = CliRunner.Run("run", Path.Combine(CliRunner.RepoRoot, "experiments", "configs", "cartpole-ppo.json"), "--output", output,
            "--set", "training.totalSteps=512", "--set", "training.evalInterval=0", "--set", "training.evalEpisodes=1", "--set", "training.checkpointInterval=512", "--set", "training.logInterval=256");
        Assert.True(run.ExitCode == 0, run.Error);
        return Assert.Single(Directory.GetDirectories(output));
    }

    /// <summary>A TCP port nobody listens on right now.</summary>
    private static int FreePort() => FreePorts(1)[0];

    /// <summary>
    /// <paramref name="count"/> distinct TCP ports nobody listens on right now: the probes stay open until all are
    /// bound, so the system cannot hand out the same port twice (two probes in a row sometimes got one port).
    /// </summary>
    private static int[] FreePorts(int count)
    {
        var probes = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var probe in probes) probe.Start();
            return [.. probes.Select(p => ((IPEndPoint)p.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var probe in probes) probe.Stop();
        }
    }

    private static void AssertOneLineUsageError(CliRunner.Result r, string expected)
    {
        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line);
    }

    [Fact]
    public async Task ARunExportsAtOpset15AndTheExportedFileServesGreedyActionsUntilCancelled()
    {
        string run = TrainTinyCartPole();
        using var temp = new TempDirectory();
        string model = temp.Combine("policy.onnx");
        var export = CliRunner.Run("export", run, "--format", "onnx", "--out", model, "--opset", "15");
        Assert.True(export.ExitCode == 0, export.Error);
        Assert.Contains("opset 15", export.Out);
        Assert.Contains("input  state float [batch, 4]", export.Out);
        Assert.Contains("output logits float [batch, 2]", export.Out);
        Assert.Contains("output value float [batch]", export.Out);
        var info = OnnxPolicyInfo.Read(OnnxModel.Read(model), model);
        Assert.Equal(2, info.ActionSpace.N);
        Assert.Equal("state", info.ObservationSpace[0].Name);

        var ports = FreePorts(2);
        int port = ports[0], grpcPort = ports[1];
        using var stop = new CancellationTokenSource();
        var serve = Task.Run(() => CliRunner.Run(stop.Token, "serve", model, "--port", port.ToString(), "--grpc-port", grpcPort.ToString()));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            if (serve.IsCompleted) Assert.Fail($"serve ended before it was ready: {(await serve).Error}");
            try
            {
                if ((await http.GetAsync("/readyz")).IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            await Task.Delay(50);
        }
        using var response = await http.PostAsync("/v1/act", new StringContent("{\"observations\": [{\"state\": [0, 0, 0.1, 0]}, {\"state\": [0, 0, -0.1, 0]}], \"value\": true}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, body.GetProperty("actions").GetArrayLength());
        Assert.All(body.GetProperty("actions").EnumerateArray(), a => Assert.InRange(a.GetInt32(), 0, 1));
        Assert.Equal(2, body.GetProperty("values").GetArrayLength());

        stop.Cancel();
        var served = await serve.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(served.ExitCode == 0, served.Error);
        Assert.Contains($"on http://127.0.0.1:{port}/", served.Out);
        Assert.Contains("stopping", served.Out);
    }

    [Fact]
    public void ExportAndServeMistakesAreOneLineWithExitCode2()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        string missing = Path.Combine(dir, "nothing-here");
        AssertOneLineUsageError(CliRunner.Run("export", missing, "--out", Path.Combine(dir, "p.onnx")), $"checkpoint '{missing}' does not exist");
        AssertOneLineUsageError(CliRunner.Run("export", dir, "--format", "tflite", "--out", Path.Combine(dir, "p.onnx")), "--format: 'tflite' is not supported (onnx)");
        AssertOneLineUsageError(CliRunner.Run("serve", missing), $"'{missing}' does not exist");

        string garbage = Path.Combine(dir, "garbage.onnx");
        File.WriteAllBytes(garbage, [0x08, 0x07, 0x12, 0xff, 0xff, 0x01, 0x02]);
        AssertOneLineUsageError(CliRunner.Run("serve", garbage, "--port", "0"), $"{garbage}: not a valid ONNX model");
        AssertOneLineUsageError(CliRunner.Run("serve", garbage, "--backend", "torch"), "serve it with --backend onnx");
        AssertOneLineUsageError(CliRunner.Run("serve", garbage, "--backend", "tpu"), "--backend must be torch or onnx, not 'tpu'");
        AssertOneLineUsageError(CliRunner.Run("serve", garbage, "--port", "70000"), "--port 70000 is not a TCP port");
        AssertOneLineUsageError(CliRunner.Run("serve", garbage, "--max-batch", "0"), "--max-batch must be at least 1, got 0");
    }

    [Fact]
    public void ServingOnABusyPortIsOneLineWithExitCode2()
    {
        string run = TrainTinyCartPole();
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        int port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var r = CliRunner.Run("serve", run, "--port", port.ToString(), "--grpc-port", FreePort().ToString());
        AssertOneLineUsageError(r, $"cannot listen on 127.0.0.1 (ports {port} and ");
        Assert.DoesNotContain("   at ", r.Error + r.Out);
    }
}
