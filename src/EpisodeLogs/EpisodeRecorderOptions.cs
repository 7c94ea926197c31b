using System.ComponentModel.DataAnnotations;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>Which episodes a recorder writes.</summary>
public enum RecordMode
{
    /// <summary>Every episode.</summary>
    All,
    /// <summary>Episodes whose index is a multiple of <see cref="EpisodeRecorderOptions.EveryN"/> (0, N, 2N, ...).</summary>
    EveryNth,
    /// <summary>Only episodes started while <see cref="EpisodeRecorder.Evaluation"/> is true (in a training run: its periodic evaluations).</summary>
    EvaluationOnly,
    /// <summary>Finished episodes that pass the filter (success, minimum return, or a predicate given in code).</summary>
    Filter,
}

/// <summary>What the recorder does when an episode starts without a seed (the env continues its stream, which a log cannot replay from).</summary>
public enum UnseededResetPolicy
{
    /// <summary>Capture the start state when the env supports it (leaves the env's random stream untouched); otherwise assign a seed.</summary>
    Auto,
    /// <summary>Pass a seed derived from <see cref="EpisodeRecorderOptions.Seed"/> and the episode index to the env's reset.</summary>
    AssignSeed,
    /// <summary>Capture the start state; an env that cannot is an error.</summary>
    CaptureStartState,
}

/// <summary>Options of an <see cref="EpisodeRecorder"/> (bound from an experiment file's <c>recording</c> section).</summary>
public sealed class EpisodeRecorderOptions
{
    /// <summary>Which episodes to write.</summary>
    public RecordMode Mode { get; set; } = RecordMode.All;

    /// <summary>
    /// In a training run, also record its periodic greedy evaluations into the same log (phase
    /// <c>eval</c>, evaluation flag set, checkpoint id <c>step-N</c> of the evaluated weights), selected by
    /// the same <c>mode</c> and filters and numbered from the same episode counter. Mode
    /// <c>evaluationOnly</c> in a training run needs it.
    /// </summary>
    public bool IncludeEvaluations { get; set; } = true;

    /// <summary>For <see cref="RecordMode.EveryNth"/>: record one episode in this many.</summary>
    [Range(1, int.MaxValue)]
    public int EveryN { get; set; } = 10;

    /// <summary>For <see cref="RecordMode.Filter"/>: keep only episodes whose last step reported success.</summary>
    public bool FilterSuccessOnly { get; set; }

    /// <summary>For <see cref="RecordMode.Filter"/>: keep only episodes whose return is at least this, or null for no bound.</summary>
    public double? FilterMinReturn { get; set; }

    /// <summary>Store a 64-bit <see cref="ObservationHash"/> per modality instead of the observations (small logs that still verify replay).</summary>
    public bool ObservationHashes { get; set; }

    /// <summary>UInt8 modalities (images) of at least this many bytes are stored zlib-compressed.</summary>
    [Range(1, int.MaxValue)]
    public int CompressImagesFromBytes { get; set; } = 1024;

    /// <summary>Ask the disk to persist every episode (fsync). Without it an episode survives a killed process but not a power cut.</summary>
    public bool DurableFlush { get; set; }

    /// <summary>What to do on a reset without a seed.</summary>
    public UnseededResetPolicy UnseededResets { get; set; } = UnseededResetPolicy.Auto;

    /// <summary>Parent seed of the seeds assigned to unseeded resets: episode k of slot s gets DeriveSeed(DeriveSeed(Seed, "episode-log-slot", s), "episode-log-reset", k).</summary>
    public long Seed { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid property.</summary>
    public void Validate()
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true))
            throw new ArgumentException($"Invalid recording options: {results[0].ErrorMessage}");
    }
}
