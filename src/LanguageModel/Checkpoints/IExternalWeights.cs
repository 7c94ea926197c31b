using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Checkpoints;

/// <summary>
/// A module some of whose tensors come from elsewhere, unchanged, every time it is built (the base weights
/// of a pretrained encoder restored from its package): <see cref="ModelWeights"/> neither saves nor loads
/// them, so checkpoints hold only what trained, and trainable sets leave them frozen. Before a checkpoint's
/// tensors are copied in, the module checks they were written on the same external weights.
/// </summary>
public interface IExternalWeights
{
    /// <summary>Qualified names, relative to this module, of the tensors restored from elsewhere.</summary>
    IReadOnlyCollection<string> ExternalTensors { get; }

    /// <summary>
    /// Throws <see cref="CheckpointException"/> (one line naming <paramref name="source"/>) unless
    /// <paramref name="tensors"/> — the checkpoint's tensors of this module, by names relative to it —
    /// were written on the external weights this module has now. Called before anything is copied.
    /// </summary>
    void CheckSource(IReadOnlyDictionary<string, Tensor> tensors, string source);
}
