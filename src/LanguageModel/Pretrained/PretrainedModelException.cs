namespace RLAgents.LanguageModel.Pretrained;

/// <summary>
/// A pretrained model that cannot be had: an unknown name, a missing package assembly or resource,
/// or weights that do not fit the architecture. The message is one line naming the model and the
/// file, fit for a command line to print as it is.
/// </summary>
public sealed class PretrainedModelException(string message) : Exception(message);
