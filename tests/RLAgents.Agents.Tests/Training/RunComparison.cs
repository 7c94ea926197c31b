using System.Text.Json.Nodes;
using RLAgents.Agents.Training;
using RLAgents.EpisodeLogs;
using RLAgents.LanguageModel.Checkpoints;

namespace RLAgents.Agents.Tests.Training;

/// <summary>Compares two run directories as a resumed run must match an uninterrupted one.</summary>
public static class RunComparison
{
    /// <summary>metrics.jsonl rows without their wall-clock fields.</summary>
    public static List<string> Rows(string runDir) => File.ReadLines(Path.Combine(runDir, TrainingRunner.MetricsFile))
        .Select(line => { var o = JsonNode.Parse(line)!.AsObject(); o.Remove("wall"); return o.ToJsonString(); }).ToList();

    /// <summary>
    /// Same metrics rows, same episode log bytes, and every checkpoint of <paramref name="expected"/> present in
    /// <paramref name="actual"/> with the same tensors, state (wall-clock seconds aside) and replay buffer.
    /// <paramref name="actual"/> may hold more checkpoints (those an interruption wrote).
    /// </summary>
    public static void AssertSameRun(string expected, string actual)
    {
        var rowsA = Rows(expected);
        var rowsB = Rows(actual);
        for (int i = 0; i < Math.Min(rowsA.Count, rowsB.Count); i++) Assert.True(rowsA[i] == rowsB[i], $"metrics row {i} differs:\n{rowsA[i]}\n{rowsB[i]}");
        Assert.Equal(rowsA.Count, rowsB.Count);

        string logA = Path.Combine(expected, TrainingRunner.EpisodeLogFile), logB = Path.Combine(actual, TrainingRunner.EpisodeLogFile);
        Assert.Equal(File.Exists(logA), File.Exists(logB));
        if (File.Exists(logA))
        {
            byte[] a = File.ReadAllBytes(logA), b = File.ReadAllBytes(logB);
            if (!a.AsSpan().SequenceEqual(b))
            {
                var ea = EpisodeLogReader.ReadAll(logA).Episodes;
                var eb = EpisodeLogReader.ReadAll(logB).Episodes;
                int first = Enumerable.Range(0, Math.Min(ea.Count, eb.Count)).FirstOrDefault(i => ea[i].Index != eb[i].Index || !ea[i].Actions.SequenceEqual(eb[i].Actions), -1);
                Assert.Fail($"episode logs differ: {a.Length} vs {b.Length} bytes, {ea.Count} vs {eb.Count} episodes, first different episode at position {first}");
            }
        }

        string folderA = Path.Combine(expected, Checkpoint.Folder), folderB = Path.Combine(actual, Checkpoint.Folder);
        Assert.Equal(File.ReadAllText(Path.Combine(folderA, "latest.json")), File.ReadAllText(Path.Combine(folderB, "latest.json")));
        foreach (var file in Directory.GetFiles(folderA))
        {
            string name = Path.GetFileName(file), other = Path.Combine(folderB, name);
            Assert.True(File.Exists(other), $"{name} is missing from the resumed run");
            switch (Path.GetExtension(name))
            {
                case ".safetensors":
                    using (var ta = Safetensors.Read(file))
                    using (var tb = Safetensors.Read(other))
                    {
                        Assert.Equal(ta.Tensors.Keys.Order(), tb.Tensors.Keys.Order());
                        foreach (var (key, tensor) in ta.Tensors) Assert.True(tensor.bytes.SequenceEqual(tb.Tensors[key].bytes), $"{name}: tensor {key} differs");
                    }
                    break;
                case ".json" when name != "latest.json":
                    Assert.Equal(WithoutSeconds(file), WithoutSeconds(other));
                    break;
                case Checkpoint.ReplayExtension:
                    Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(other)), $"{name} differs");
                    break;
            }
        }
    }

    // A checkpoint's state without its wall-clock fields (seconds of the run and of each finished phase).
    private static string WithoutSeconds(string stateFile)
    {
        var node = JsonNode.Parse(File.ReadAllText(stateFile))!;
        static void Strip(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                o.Remove("seconds");
                foreach (var (_, v) in o.ToList()) Strip(v);
            }
            else if (n is JsonArray a) foreach (var v in a) Strip(v);
        }
        Strip(node);
        return node.ToJsonString();
    }
}
