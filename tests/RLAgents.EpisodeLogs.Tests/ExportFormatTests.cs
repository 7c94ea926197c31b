using System.Text.Json;
using Parquet;
using RLAgents.EpisodeLogs.Rendering;

namespace RLAgents.EpisodeLogs.Tests;

/// <summary>What outside readers see: file names, 64-bit integers in JSON, column metadata in exports, seeds in the viewer.</summary>
public sealed class ExportFormatTests
{
    private const long WideSeed = -6350182107516670054; // beyond 2^53: a double rounds it to -6350182107516670000

    private static string RecordWithDerivedSeeds(string file)
    {
        // Unseeded resets get 64-bit seeds derived from the recorder's seed: most are beyond 2^53.
        return LogTestKit.Record("Beacon-v2", 3, new EpisodeRecorderOptions { UnseededResets = UnseededResetPolicy.AssignSeed, Seed = 42 }, seeded: false, file: file);
    }

    [Fact]
    public void JsonlWritesSixtyFourBitIntegersAsDecimalStrings()
    {
        var log = EpisodeLogReader.ReadAll(RecordWithDerivedSeeds("wide" + EpisodeLogFormat.FileExtension));
        Assert.Contains(log.Episodes, e => Math.Abs((double)e.Seed!.Value) > 9007199254740992.0);
        string output = TempDirectory.ForProcess.NewFile("table.jsonl");
        EpisodeExporter.ToJsonl(log, output);
        var rows = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        foreach (var e in log.Episodes)
        {
            var first = rows.First(r => r.GetProperty("episode").GetString() == e.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(JsonValueKind.String, first.GetProperty("seed").ValueKind);
            Assert.Equal(e.Seed, long.Parse(first.GetProperty("seed").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void JsonlExportKeepsColumnMetadataInItsSchemaSidecar()
    {
        var log = EpisodeLogReader.ReadAll(LogTestKit.Record("Beacon-v2", 1, seed: 3));
        string output = TempDirectory.ForProcess.NewFile("table.jsonl");
        EpisodeExporter.ToJsonl(log, output);
        using var sidecar = JsonDocument.Parse(File.ReadAllText(output + EpisodeExporter.JsonlSchemaSuffix));
        var root = sidecar.RootElement;
        Assert.Equal("Beacon-v2", root.GetProperty("metadata").GetProperty("rlagents.env_id").GetString());
        foreach (var m in log.Header.Modalities)
        {
            var column = root.GetProperty("columns").GetProperty(m.Column);
            Assert.Equal(string.Join(",", m.Shape), column.GetProperty("rlagents.shape").GetString());
            Assert.Equal(m.Storage.ToString(), column.GetProperty("rlagents.storage").GetString());
            // Exports hold decompressed values, whatever the log stored.
            Assert.Equal("Raw", column.GetProperty("rlagents.encoding").GetString());
        }
        Assert.Equal("int64 as a decimal string", root.GetProperty("columns").GetProperty("seed").GetProperty("rlagents.export_layout").GetString());
    }

    [Fact]
    public async Task ParquetExportKeepsColumnMetadata()
    {
        var log = EpisodeLogReader.ReadAll(LogTestKit.Record("Beacon-v2", 1, seed: 3));
        string output = TempDirectory.ForProcess.NewFile("table.parquet");
        await EpisodeExporter.ToParquetAsync(log, output);
        await using var reader = await ParquetReader.CreateAsync(output);
        using var columns = JsonDocument.Parse(reader.CustomMetadata[EpisodeExporter.ColumnsKey]);
        var names = reader.Schema.GetDataFields().Select(f => f.Name).ToHashSet();
        foreach (var m in log.Header.Modalities)
        {
            var column = columns.RootElement.GetProperty(m.Column);
            Assert.Equal(string.Join(",", m.Shape), column.GetProperty("rlagents.shape").GetString());
            // Every Parquet column the metadata points at exists: the column itself or its per-element columns.
            string[] parts = column.TryGetProperty("rlagents.export_columns", out var split) ? split.GetString()!.Split(',') : [m.Column];
            Assert.All(parts, p => Assert.Contains(p, names));
        }
        Assert.Equal("Beacon-v2", reader.CustomMetadata["rlagents.env_id"]);
    }

    [Fact]
    public void LogsNamedArrowByEarlierBuildsStillRead()
    {
        string current = LogTestKit.Record("Beacon-v2", 2, seed: 9, file: "log" + EpisodeLogFormat.FileExtension);
        string legacy = Path.ChangeExtension(current, EpisodeLogFormat.LegacyFileExtension);
        File.Copy(current, legacy);
        var a = EpisodeLogReader.ReadAll(current);
        var b = EpisodeLogReader.ReadAll(legacy);
        Assert.Equal(a.Episodes.Select(e => (e.Seed, e.Return, e.Length)), b.Episodes.Select(e => (e.Seed, e.Return, e.Length)));
        Assert.Equal(".arrows", EpisodeLogFormat.FileExtension);
    }

    [Fact]
    public void TheViewerShowsAWideSeedWithEveryDigit()
    {
        string path = GridWorldLogTests.RecordLevel("BabyAI-GoToRedBallGrey-v0", 1, seed: WideSeed);
        var log = EpisodeLogReader.ReadAll(path);
        Assert.Equal(WideSeed, log.Episodes[0].Seed);
        string html = Path.ChangeExtension(path, ".html");
        HtmlViewer.Write(html, new EpisodeRenderer().Render(log.Header, log.Episodes[0]), 100);
        string dom = Chromium.DumpDom(new Uri(html).AbsoluteUri, virtualTimeMs: 500);
        Assert.Contains($"seed {WideSeed} ", dom);
    }
}
