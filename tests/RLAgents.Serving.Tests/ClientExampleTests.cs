using System.Diagnostics;
using static RLAgents.Serving.Tests.ServingTestKit;

namespace RLAgents.Serving.Tests;

public sealed class ClientExampleTests
{
    /// <summary>examples/CartPoleClient's build output, same configuration as this test assembly.</summary>
    private static string ClientDll()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = output.Name, configuration = output.Parent!.Name;
        for (var dir = output; dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "examples", "CartPoleClient", "bin", configuration, framework, "CartPoleClient.dll");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"examples/CartPoleClient/bin/{configuration}/{framework}/CartPoleClient.dll not found above {AppContext.BaseDirectory}");
    }

    [Fact]
    public async Task TheCSharpClientExamplePlaysCartPoleEpisodesAgainstTheServer()
    {
        var policy = CartPolePolicy();
        await using var server = await Start(new TorchPolicyBackend(policy, owner: policy));
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { ClientDll(), "--server", server.GrpcAddress.ToString().TrimEnd('/'), "--episodes", "2", "--seed", "5" }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(process.ExitCode == 0, await stderr);
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^episode 0: return \d+, \d+ steps, round trip p50 \d+ µs$", lines[0]);
        // CartPole pays 1 per step: the return equals the episode's length.
        var parts = lines[1].Split(' ');
        Assert.Equal(parts[3].TrimEnd(','), parts[4]);
    }
}
