using Google.Protobuf;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Onnx;
using RLAgents.LanguageModel.Pretrained;
using RLAgents.LanguageModel.Tests.Pretrained;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Onnx;

[Collection(MiniLmCollection.Name)]
public class OnnxModelTests(MiniLmFixture fixture)
{
    /// <summary>z = Relu(x·W + b) · c: W in float_data (the typed field), b in raw_data, c a Constant node's tensor attribute.</summary>
    private static OnnxModel SmallGraph()
    {
        var w = new OnnxTensor { Name = "W", DataType = OnnxDataType.Float };
        w.Dims.AddRange([3, 2]);
        w.FloatData.AddRange([0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f]);
        var graph = new OnnxGraph { Name = "matmul_add" };
        graph.Initializers.Add(w);
        graph.Initializers.Add(OnnxTensor.FromArray("b", [2], new[] { 0.1f, -0.2f }));
        graph.Inputs.Add(OnnxValueInfo.Tensor("x", OnnxDataType.Float, "batch", 3L));
        graph.Outputs.Add(OnnxValueInfo.Tensor("z", OnnxDataType.Float, "batch", 2L));
        graph.Nodes.Add(new OnnxNode("MatMul", ["x", "W"], ["h"], "matmul"));
        graph.Nodes.Add(new OnnxNode("Add", ["h", "b"], ["y"], "add"));
        graph.Nodes.Add(new OnnxNode("Relu", ["y"], ["r"], "relu"));
        graph.Nodes.Add(new OnnxNode("Constant", [], ["c"], "scale", OnnxAttribute.Of("value", OnnxTensor.FromArray("c", [], new[] { 3f }))));
        graph.Nodes.Add(new OnnxNode("Mul", ["r", "c"], ["z"], "mul"));
        var model = new OnnxModel { IrVersion = 8, ProducerName = "RLAgents tests", ProducerVersion = "1", Graph = graph };
        model.OpsetImports.Add(new OnnxOperatorSetId("", 17));
        model.MetadataProps.Add(new OnnxStringEntry("purpose", "round trip"));
        return model;
    }

    [Fact]
    public void HandBuiltMatMulAddGraphRunsInOnnxRuntimeAndReadsBackUnchanged()
    {
        byte[] bytes = SmallGraph().ToByteArray();
        var x = new[] { 1f, 2f, 3f, -1f, 0.5f, 4f };
        using var session = OrtReference.Session(bytes);
        var (z, shape) = OrtReference.Run(session, new Dictionary<string, (Array, long[])> { ["x"] = (x, [2, 3]) }, "z");
        Assert.Equal(new long[] { 2, 2 }, shape);
        float[] w = [0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f], b = [0.1f, -0.2f];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                float y = b[j];
                for (int k = 0; k < 3; k++) y += x[i * 3 + k] * w[k * 2 + j];
                Assert.Equal(3f * Math.Max(0f, y), z[i * 2 + j], 1e-5f);
            }

        var read = OnnxModel.Parse(bytes, "small graph");
        Assert.Equal(bytes, read.ToByteArray());
        Assert.Equal(17, read.DefaultOpsetVersion);
        Assert.Equal(["MatMul", "Add", "Relu", "Constant", "Mul"], read.Graph!.Nodes.Select(n => n.OpType));
        Assert.Equal("batch", read.Graph.Inputs[0].Type!.TensorType!.Shape!.Dims[0].Param);
        Assert.Equal(3f, read.Graph.Nodes[3].Attribute("value")!.T!.ToTensor().item<float>());
        Assert.Equal(("purpose", "round trip"), (read.MetadataProps[0].Key, read.MetadataProps[0].Value));
        Assert.Equal(new long[] { 3, 2 }, read.Graph.Initializer("W")!.Dims);
    }

    [Fact]
    public void ReadingAndWritingMiniLmGivesTheSameBytes()
    {
        var model = OnnxModel.Parse(fixture.ModelBytes, "model.onnx");
        Assert.Equal(("pytorch", 13L), (model.ProducerName, model.DefaultOpsetVersion));
        Assert.False(model.HasUnknownFields);
        Assert.True(fixture.ModelBytes.AsSpan().SequenceEqual(model.ToByteArray()));
    }

    [Fact]
    public void RewrittenMiniLmRunsInOnnxRuntimeWithIdenticalOutputs()
    {
        var model = OnnxModel.Parse(fixture.ModelBytes, "model.onnx");
        model.MetadataProps.Add(new OnnxStringEntry("rewritten_by", "RLAgents"));
        model.ProducerName = "RLAgents";
        using var stream = new MemoryStream();
        model.Write(stream);
        byte[] rewritten = stream.ToArray();
        Assert.NotEqual(fixture.ModelBytes.Length, rewritten.Length);

        using var scope = NewDisposeScope();
        using var batch = fixture.Encoder.Tokenizer.EncodeBatch(["go to the red ball", "open the door on your left, then pick up the key"]);
        long b = batch.Ids.shape[0], t = batch.Ids.shape[1];
        var inputs = new Dictionary<string, (Array, long[])>
        {
            ["input_ids"] = (batch.Ids.data<long>().ToArray(), [b, t]),
            ["attention_mask"] = (batch.Mask.data<long>().ToArray(), [b, t]),
            ["token_type_ids"] = (new long[b * t], [b, t]),
        };
        using var session = OrtReference.Session(rewritten);
        var original = OrtReference.Run(fixture.Session, inputs, "last_hidden_state");
        var again = OrtReference.Run(session, inputs, "last_hidden_state");
        Assert.Equal(original.Shape, again.Shape);
        Assert.Equal(original.Data, again.Data);
    }

    [Fact]
    public void UnknownFieldsAreKeptAndWrittenBack()
    {
        // A newer writer's fields this reader does not model: a varint at model level (field 99) and
        // a string at graph level (field 16, metadata_props in recent onnx.proto).
        var graphBytes = SmallGraph().Graph!.ToByteArray();
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteInt64(8);
        output.WriteTag(7, WireFormat.WireType.LengthDelimited);
        var extra = new MemoryStream();
        var extraOut = new CodedOutputStream(extra);
        extraOut.WriteTag(16, WireFormat.WireType.LengthDelimited);
        extraOut.WriteString("graph extension");
        extraOut.Flush();
        output.WriteBytes(ByteString.CopyFrom([.. graphBytes, .. extra.ToArray()]));
        output.WriteTag(99, WireFormat.WireType.Varint);
        output.WriteInt64(12345);
        output.Flush();
        byte[] bytes = buffer.ToArray();

        var model = OnnxModel.Parse(bytes, "extended");
        Assert.True(model.HasUnknownFields);
        Assert.True(model.Graph!.HasUnknownFields);
        Assert.Equal(5, model.Graph.Nodes.Count);
        Assert.Equal(bytes, model.ToByteArray());
    }

    [Fact]
    public void PackedAndUnpackedRepeatedFieldsBothRead()
    {
        // AttributeProto.ints (field 8) as one packed run, which proto2 readers must accept though ONNX writes it unpacked.
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteString("perm");
        output.WriteTag(8, WireFormat.WireType.LengthDelimited);
        output.WriteLength(3);
        output.WriteInt64(0);
        output.WriteInt64(2);
        output.WriteInt64(1);
        output.WriteTag(20, WireFormat.WireType.Varint);
        output.WriteEnum((int)OnnxAttributeType.Ints);
        output.Flush();
        var node = new OnnxNode { OpType = "Transpose" };
        var nodeBytes = node.ToByteArray().Concat(Tag(5)).Concat(Length((int)buffer.Length)).Concat(buffer.ToArray()).ToArray();
        var graph = new OnnxGraph();
        graph.Nodes.Add(node);
        var parsed = OnnxModel.Parse(new OnnxModel { Graph = new OnnxGraph() }.ToByteArray()
            .Concat(new byte[] { 0x3A }).Concat(Length(nodeBytes.Length + 2)).Concat(new byte[] { 0x0A, (byte)nodeBytes.Length }).Concat(nodeBytes).ToArray(), "packed");
        var attribute = parsed.Graph!.Nodes.Single().Attribute("perm")!;
        Assert.Equal([0L, 2, 1], attribute.Ints);
        // Written back unpacked, the way the reference serializer writes proto2 repeated fields, and still read the same.
        var reread = OnnxModel.Parse(parsed.ToByteArray(), "unpacked").Graph!.Nodes.Single().Attribute("perm")!;
        Assert.Equal([0L, 2, 1], reread.Ints);

        static byte[] Tag(int field) => [(byte)(field << 3 | 2)];
        static byte[] Length(int n) { var s = new MemoryStream(); var o = new CodedOutputStream(s); o.WriteLength(n); o.Flush(); return s.ToArray(); }
    }

    [Fact]
    public void TypedDataFieldsConvertLikeRawData()
    {
        var int64 = new OnnxTensor { Name = "i", DataType = OnnxDataType.Int64 };
        int64.Dims.Add(3);
        int64.Int64Data.AddRange([-5, 0, 1L << 40]);
        Assert.Equal([-5L, 0, 1L << 40], int64.ToTensor().data<long>().ToArray());

        var flags = new OnnxTensor { Name = "f", DataType = OnnxDataType.Bool };
        flags.Dims.AddRange([2, 2]);
        flags.Int32Data.AddRange([1, 0, 0, 1]);
        Assert.Equal([true, false, false, true], flags.ToTensor().data<bool>().ToArray());

        var half = new OnnxTensor { Name = "h", DataType = OnnxDataType.Float16 };
        half.Dims.Add(2);
        half.Int32Data.AddRange([BitConverter.HalfToInt16Bits((Half)1.5), BitConverter.HalfToInt16Bits((Half)(-2))]);
        Assert.Equal([1.5f, -2f], half.ToTensor().to(float32).data<float>().ToArray());

        var doubles = new OnnxTensor { Name = "d", DataType = OnnxDataType.Double };
        doubles.DoubleData.Add(Math.PI);
        Assert.Equal(Math.PI, doubles.ToTensor().item<double>());

        using var original = tensor(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, [2, 3]);
        var raw = OnnxTensor.FromTensor("raw", original);
        Assert.True(raw.ToTensor().equal(original).all().item<bool>());
        Assert.Equal(24, raw.GetDataBytes().Length);

        var wrong = new OnnxTensor { Name = "short", DataType = OnnxDataType.Float };
        wrong.Dims.Add(4);
        wrong.FloatData.AddRange([1f, 2f]);
        var error = Assert.Throws<CheckpointException>(() => wrong.GetDataBytes());
        Assert.Contains("'short'", error.Message);
        Assert.Contains("float_data has 2 elements", error.Message);
    }

    [Fact]
    public void MalformedFilesAreOneLineNamingTheSource()
    {
        byte[] bytes = SmallGraph().ToByteArray();
        var truncated = Assert.Throws<CheckpointException>(() => OnnxModel.Parse(bytes.AsMemory(0, bytes.Length - 7), "cut.onnx"));
        Assert.StartsWith("cut.onnx: not a valid ONNX model (at byte", truncated.Message);
        Assert.DoesNotContain('\n', truncated.Message);
        var noGraph = Assert.Throws<CheckpointException>(() => OnnxModel.Parse(new OnnxModel { IrVersion = 8 }.ToByteArray(), "empty.onnx"));
        Assert.Equal("empty.onnx: the ONNX model has no graph.", noGraph.Message);
        Assert.Contains("file not found", Assert.Throws<CheckpointException>(() => OnnxModel.Read("/nonexistent/model.onnx")).Message);
    }
}
