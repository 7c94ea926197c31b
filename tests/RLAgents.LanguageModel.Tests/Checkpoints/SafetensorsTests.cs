using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Checkpoints;

public class SafetensorsTests
{
    /// <summary>Builds a safetensors file by hand (independent of the writer under test).</summary>
    internal static byte[] HandMade(string headerJson, byte[] data)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    [Fact]
    public void RoundTripsTensorsAndMetadataInTheStandardLayout()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "t.safetensors");
        var weights = arange(6, dtype: float32).reshape(2, 3) / 4;
        var steps = tensor(new long[] { -3, 1L << 40 });
        Safetensors.Write(path, new Dictionary<string, Tensor> { ["b.w"] = weights, ["a.step"] = steps, ["scalar"] = tensor(2.5f) },
            new Dictionary<string, string> { ["format"] = "pt" });

        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + n) % 8);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        Assert.Equal("F32", header.RootElement.GetProperty("b.w").GetProperty("dtype").GetString());
        Assert.Equal("[2,3]", header.RootElement.GetProperty("b.w").GetProperty("shape").GetRawText());
        Assert.Equal("I64", header.RootElement.GetProperty("a.step").GetProperty("dtype").GetString());
        // Names are laid out in ordinal order: a.step (16 bytes) first, then b.w (24 bytes).
        Assert.Equal("[16,40]", header.RootElement.GetProperty("b.w").GetProperty("data_offsets").GetRawText());
        Assert.Equal(1.25f, BitConverter.ToSingle(bytes, 8 + (int)n + 16 + 5 * 4));

        using var read = Safetensors.Read(path);
        Assert.True(read.Tensors["b.w"].equal(weights).all().item<bool>());
        Assert.Equal(new long[] { -3, 1L << 40 }, read.Tensors["a.step"].data<long>().ToArray());
        Assert.Empty(read.Tensors["scalar"].shape);
        Assert.Equal(2.5f, read.Tensors["scalar"].item<float>());
        Assert.Equal("pt", read.Metadata["format"]);
    }

    [Fact]
    public void DoublePrecisionTensorsRoundTripBitExactly()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "d.safetensors");
        // 1 + 2^-40 is not representable in float32: a conversion on the way would lose it.
        double[] values = [1 + Math.Pow(2, -40), -1e-300, Math.PI];
        Safetensors.Write(path, [("d", tensor(values))]);
        using var header = JsonDocument.Parse(File.ReadAllBytes(path).AsMemory(8, (int)BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path))));
        Assert.Equal("F64", header.RootElement.GetProperty("d").GetProperty("dtype").GetString());
        using var read = Safetensors.Read(path);
        Assert.Equal(ScalarType.Float64, read.Tensors["d"].dtype);
        Assert.Equal(values, read.Tensors["d"].data<double>().ToArray());
    }

    [Fact]
    public void ReadsHalfAndBFloat16AsFloat32()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "h.safetensors");
        // F16: 1.0 = 0x3C00, -2.5 = 0xC100. BF16: 1.0 = 0x3F80, -2.5 = 0xC020.
        byte[] data = [0x00, 0x3C, 0x00, 0xC1, 0x80, 0x3F, 0x20, 0xC0];
        File.WriteAllBytes(path, HandMade(
            """{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[4,8]}}""", data));
        using var read = Safetensors.Read(path);
        Assert.Equal(ScalarType.Float32, read.Tensors["h"].dtype);
        Assert.Equal(new[] { 1.0f, -2.5f }, read.Tensors["h"].data<float>().ToArray());
        Assert.Equal(new[] { 1.0f, -2.5f }, read.Tensors["b"].data<float>().ToArray());
        Assert.Equal(new long[] { 1, 2 }, read.Tensors["b"].shape);
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8, "tensor 'w'", "truncated")]
    [InlineData("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}""", 16, "tensor 'w'", "needs 12 bytes")]
    [InlineData("""{"w":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}}""", 16, "tensor 'w'", "unsupported dtype 'Q4'")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,16]}}""", 16, "tensor 'w'", "shape entry 0")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 16, "overlap", "'w'")]
    [InlineData("""{"w": not json""", 16, "not valid JSON", "header")]
    public void BadFilesFailWithAMessageNamingTheProblem(string header, int dataBytes, string expected1, string expected2)
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "bad.safetensors");
        File.WriteAllBytes(path, HandMade(header, new byte[dataBytes]));
        var error = Assert.Throws<CheckpointException>(() => Safetensors.Read(path));
        Assert.Contains(expected1, error.Message);
        Assert.Contains(expected2, error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void HeaderLengthBeyondTheFileIsReported()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "short.safetensors");
        File.WriteAllBytes(path, new byte[5]);
        Assert.Contains("shorter than the 8-byte header length", Assert.Throws<CheckpointException>(() => Safetensors.Read(path)).Message);
        var bytes = HandMade("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]);
        File.WriteAllBytes(path, bytes[..20]);
        Assert.Contains("exceeds the file", Assert.Throws<CheckpointException>(() => Safetensors.Read(path)).Message);
    }

    [Fact]
    public void InMemoryBytesEqualTheFileAndReadBack()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "t.safetensors");
        var named = new (string, Tensor)[] { ("w", arange(6, dtype: float32).reshape(3, 2)), ("n", tensor(new long[] { 7 })) };
        Safetensors.Write(path, named);
        byte[] blob = Safetensors.ToBytes(named);
        Assert.Equal(File.ReadAllBytes(path), blob);
        using var back = Safetensors.Read(blob, "weights v3");
        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5 }, back.Tensors["w"].data<float>().ToArray());
        Assert.Equal(7L, back.Tensors["n"].item<long>());
        // Errors name the blob as they name a file.
        Assert.Contains("weights v3", Assert.Throws<CheckpointException>(() => Safetensors.Read(blob.AsMemory(0, 20), "weights v3")).Message);
        // A damaged blob is caught by the checksums, as a damaged file is.
        blob[^1] ^= 1;
        string damaged = Assert.Throws<CheckpointException>(() => Safetensors.Read(blob, "weights v3")).Message;
        Assert.Contains("weights v3: tensor 'w'", damaged);
    }

    [Fact]
    public void EveryByteFlipIsReportedWithTheDamagedTensorOrTheHeader()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "c.safetensors");
        Safetensors.Write(path, new Dictionary<string, Tensor> { ["policy.w"] = arange(12, dtype: float32).reshape(3, 4) / 7, ["step"] = tensor(new long[] { 5 }) },
            new Dictionary<string, string> { ["format"] = "test" });
        byte[] original = File.ReadAllBytes(path);
        int dataStart = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        using (var clean = Safetensors.Read(path))
        {
            // The checksums are the reader's business: callers see their own metadata only.
            Assert.Equal(["format"], clean.Metadata.Keys);
        }
        var rng = new Rng(5);
        string flipped = Path.Combine(dir.Path, "flipped.safetensors");
        // Every byte of the file, one random bit each: header bytes (length, JSON, padding) and tensor bytes alike.
        for (int at = 0; at < original.Length; at++)
        {
            var bytes = (byte[])original.Clone();
            bytes[at] ^= (byte)(1 << rng.NextInt(8));
            File.WriteAllBytes(flipped, bytes);
            var error = Assert.Throws<CheckpointException>(() => Safetensors.Read(flipped).Dispose());
            Assert.Contains(flipped, error.Message);
            // A flip in the data names the tensor whose bytes it hit (policy.w: 12 float32 = 48 bytes, first in ordinal order).
            if (at >= dataStart) Assert.Contains(at < dataStart + 48 ? "'policy.w'" : "'step'", error.Message);
        }
    }
}
