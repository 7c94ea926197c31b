using Microsoft.ML.OnnxRuntime;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Onnx;
using RLAgents.Policies;
using RLAgents.Policies.Export;
using RLAgents.Policies.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Serving;

/// <summary>Which engine runs the policy.</summary>
public enum BackendKind
{
    /// <summary>TorchSharp, on the checkpoint's own modules.</summary>
    Torch,
    /// <summary>ONNX Runtime, on an exported file or on the checkpoint exported in memory.</summary>
    Onnx,
}

/// <summary>
/// Runs a policy on observation batches: preferences (logits or Q-values) and, for actor-critic
/// policies, V(s). One caller at a time (the batcher's thread).
/// </summary>
public interface IPolicyBackend : IDisposable
{
    /// <summary>The engine.</summary>
    BackendKind Kind { get; }

    /// <summary>What the policy reads and does: spaces, kind, text encodings (as an export's metadata says it).</summary>
    OnnxPolicyInfo Info { get; }

    /// <summary>
    /// Evaluates the first <paramref name="count"/> slots of <paramref name="batch"/>: preferences into
    /// <paramref name="preferences"/> ([count·K], row-major) and V(s) into <paramref name="values"/> ([count];
    /// untouched for Q-networks). A recurrent policy (<see cref="OnnxPolicyInfo.MemorySize"/> H &gt; 0) reads each
    /// slot's memory from <paramref name="memory"/> ([count·H], zeros where an episode begins) and writes the memory
    /// after the step into <paramref name="memoryOut"/> ([count·H]); both are empty for other policies.
    /// </summary>
    void Run(ObservationBatch batch, int count, ReadOnlySpan<float> memory, Span<float> preferences, Span<float> values, Span<float> memoryOut);
}

/// <summary>The policy's own TorchSharp modules.</summary>
public sealed class TorchPolicyBackend : IPolicyBackend
{
    private readonly Policy _policy;
    private readonly IDisposable? _owner;
    private readonly int _threads;

    /// <summary>The intra-op thread count last applied on this thread (0: never).</summary>
    [ThreadStatic]
    private static int t_threads;

    /// <summary>Serves a checkpoint's policy (disposed with the backend) on <paramref name="threads"/> intra-op threads.</summary>
    public TorchPolicyBackend(TrainedPolicy trained, int threads = 1) : this(trained.Policy, trained.CheckpointId, trained.Step, trained, threads) { }

    /// <summary>
    /// Serves <paramref name="policy"/> on <paramref name="threads"/> intra-op threads; <paramref name="owner"/> (if any)
    /// is disposed with the backend.
    /// </summary>
    public TorchPolicyBackend(Policy policy, string? checkpoint = null, long? step = null, IDisposable? owner = null, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _policy = policy;
        _owner = owner;
        _threads = threads;
        _policy.eval();
        // The description an export would carry; text goes through the policy's own tensorizer, not as ids.
        Info = new OnnxPolicyInfo(policy.ObservationSpace, policy.ActionSpace.AsDiscrete("serving a policy"), policy is QNetworkPolicy, [], checkpoint, step)
        {
            MemorySize = policy is ActorCriticPolicy actorCritic ? actorCritic.MemorySize : 0,
        };
    }

    /// <inheritdoc />
    public BackendKind Kind => BackendKind.Torch;

    /// <inheritdoc />
    public OnnxPolicyInfo Info { get; }

    /// <inheritdoc />
    public void Run(ObservationBatch batch, int count, ReadOnlySpan<float> memory, Span<float> preferences, Span<float> values, Span<float> memoryOut)
    {
        // libtorch's OpenMP thread count is per calling thread: set it on the thread that runs the policy
        // (the batcher's), or batches of more than one row fan out over every core, against the clients.
        if (t_threads != _threads)
        {
            torch.set_num_threads(_threads);
            t_threads = _threads;
        }
        using var scope = NewDisposeScope();
        var input = _policy.Tensorizer.ToInput(batch, 0, count);
        int h = Info.MemorySize;
        // One step of count episodes: memory [count, H] in, the cell's output [count, H] kept by Outputs.
        if (h > 0) input.Sequence = new SequenceInput(1, tensor(memory[..(count * h)].ToArray(), [count, h]));
        var (p, v) = _policy.Outputs(input, withValues: !Info.IsQNetwork);
        p.data<float>().CopyTo(preferences[..(count * Info.ActionSpace.N)]);
        v?.data<float>().CopyTo(values[..count]);
        if (h > 0) input.Sequence!.FinalValues.AsSpan().CopyTo(memoryOut);
    }

    /// <inheritdoc />
    public void Dispose() => _owner?.Dispose();
}

/// <summary>ONNX Runtime on an exported policy (<see cref="OnnxPolicyInfo"/> describes its inputs and outputs).</summary>
public sealed class OnnxPolicyBackend : IPolicyBackend
{
    private readonly InferenceSession _session;
    private readonly OnnxInputFeed _feed;
    private readonly string[] _outputs;

    /// <summary>Opens <paramref name="model"/> (serialized ONNX) fed by <paramref name="feed"/>, ONNX Runtime using <paramref name="threads"/> threads.</summary>
    public OnnxPolicyBackend(byte[] model, OnnxPolicyInfo info, OnnxInputFeed feed, int threads)
    {
        Info = info;
        _feed = feed;
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(model, options);
        _outputs = [info.PreferencesOutput, .. info.ValueOutput is { } value ? [value] : Array.Empty<string>(), .. info.MemorySize > 0 ? [OnnxPolicyInfo.MemoryOutput] : Array.Empty<string>()];
    }

    /// <inheritdoc />
    public BackendKind Kind => BackendKind.Onnx;

    /// <inheritdoc />
    public OnnxPolicyInfo Info { get; }

    /// <inheritdoc />
    public void Run(ObservationBatch batch, int count, ReadOnlySpan<float> memory, Span<float> preferences, Span<float> values, Span<float> memoryOut)
    {
        var inputs = _feed.Encode(batch, 0, count);
        int h = Info.MemorySize;
        if (h > 0) inputs = [.. inputs, new OnnxInputArray(OnnxPolicyInfo.MemoryInput, memory[..(count * h)].ToArray(), [count, h])];
        var names = new string[inputs.Length];
        var tensors = new OrtValue[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                names[i] = inputs[i].Name;
                tensors[i] = inputs[i].Data switch
                {
                    float[] f => OrtValue.CreateTensorValueFromMemory(f, inputs[i].Shape),
                    byte[] b => OrtValue.CreateTensorValueFromMemory(b, inputs[i].Shape),
                    long[] l => OrtValue.CreateTensorValueFromMemory(l, inputs[i].Shape),
                    _ => throw new InvalidOperationException($"input {inputs[i].Name}: unexpected data"),
                };
            }
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, names, tensors, _outputs);
            results[0].GetTensorDataAsSpan<float>().CopyTo(preferences);
            if (Info.ValueOutput is not null) results[1].GetTensorDataAsSpan<float>().CopyTo(values);
            if (h > 0) results[_outputs.Length - 1].GetTensorDataAsSpan<float>().CopyTo(memoryOut);
        }
        finally
        {
            foreach (var t in tensors) t?.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}

/// <summary>Opens what <c>rlagents serve</c> is pointed at.</summary>
public static class PolicyBackends
{
    /// <summary>
    /// A backend for <paramref name="path"/>: a run directory or checkpoint (TorchSharp, or ONNX Runtime on
    /// the policy exported in memory), or an exported <c>.onnx</c> file (ONNX Runtime only; its tokenizer
    /// folders beside it). <paramref name="threads"/> intra-op threads for either engine.
    /// </summary>
    /// <exception cref="ServingStartupException">A missing or unreadable model, or a backend that cannot run it (one line).</exception>
    public static IPolicyBackend Open(string path, BackendKind kind, int threads)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new ServingStartupException($"'{path}' does not exist (a run directory, a checkpoint or an exported .onnx file)");
        bool onnxFile = File.Exists(path) && path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
        try
        {
            if (onnxFile)
            {
                if (kind == BackendKind.Torch) throw new ServingStartupException($"{path} is an ONNX file: serve it with --backend onnx, or point --backend torch at a run directory or checkpoint");
                byte[] bytes = File.ReadAllBytes(path);
                var info = OnnxPolicyInfo.Read(OnnxModel.Parse(bytes, path), path);
                var feed = OnnxInputFeed.Load(info, Path.GetDirectoryName(Path.GetFullPath(path))!);
                return new OnnxPolicyBackend(bytes, info, feed, threads);
            }
            var trained = TrainedPolicy.Load(path);
            if (kind == BackendKind.Torch) return new TorchPolicyBackend(trained, threads);
            using (trained)
            {
                var export = PolicyOnnxExporter.Export(trained.Policy, new OnnxExportOptions { Checkpoint = trained.CheckpointId, Step = trained.Step });
                using var stream = new MemoryStream();
                export.Model.Write(stream);
                return new OnnxPolicyBackend(stream.ToArray(), export.Info, OnnxInputFeed.For(export), threads);
            }
        }
        catch (Exception e) when (e is CheckpointException or RunFormatException or OnnxExportException or InvalidDataException
            or DirectoryNotFoundException or FileNotFoundException or Environments.Configuration.ConfigurationException)
        {
            throw new ServingStartupException(e.Message);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ServingStartupException($"{path}: ONNX Runtime cannot load the model: {e.Message.Split('\n')[0]}");
        }
    }
}

/// <summary>The server cannot start (a bad model file, a busy port); the message is one line.</summary>
public sealed class ServingStartupException(string message) : Exception(message);
