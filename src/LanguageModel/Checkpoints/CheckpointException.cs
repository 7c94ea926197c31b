namespace RLAgents.LanguageModel.Checkpoints;

/// <summary>A checkpoint or tensor file that cannot be read or does not fit the model; the message names the file and the tensor.</summary>
public sealed class CheckpointException(string message) : Exception(message);
