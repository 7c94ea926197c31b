using System.Buffers.Binary;
using Apache.Arrow.Ipc;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// Appends episodes to an episode log, one Arrow record batch each. Every finished episode is
/// encoded into a reused buffer (<see cref="EpisodeBatchEncoder"/>) and handed to the operating system in one write, so a process
/// killed at any moment leaves every earlier episode complete and readable (only the open
/// episode, which was never written, and at worst a torn last message are lost; the reader
/// reports a torn tail by byte offset). <see cref="Dispose"/> writes Arrow's end-of-stream marker.
/// </summary>
public sealed class EpisodeLogWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly EpisodeBatchEncoder _encoder;
    private readonly bool _durable;
    private bool _disposed;
    private readonly Lock _gate = new();

    private EpisodeLogWriter(string path, FileStream file, EpisodeLogHeader header, bool appending, bool durable, long nextEpisodeIndex = 0)
    {
        Path = path;
        NextEpisodeIndex = nextEpisodeIndex;
        _file = file;
        Header = header;
        _durable = durable;
        _encoder = new EpisodeBatchEncoder(header);
        if (appending) return; // the file already starts with this schema
        // The schema message, once, by Arrow's own writer; record batches come from the encoder.
        var capture = new CaptureStream();
        using (var arrow = new ArrowStreamWriter(capture, EpisodeLogFormat.BuildSchema(header), leaveOpen: true)) arrow.WriteStart();
        WriteToFile(capture.Pending);
    }

    /// <summary>The file being written.</summary>
    public string Path { get; }

    /// <summary>The log-level metadata.</summary>
    public EpisodeLogHeader Header { get; }

    /// <summary>One more than the largest episode index already in the file when it was opened (0 for a new log): where recorders continue numbering.</summary>
    public long NextEpisodeIndex { get; }

    /// <summary>Episodes written by this writer (not counting those already in an appended file).</summary>
    public long EpisodesWritten { get; private set; }

    /// <summary>Bytes in the file after the last write.</summary>
    public long BytesWritten => _file.Length;

    /// <summary>
    /// Creates a new log (replacing any file at <paramref name="path"/>) and writes its schema.
    /// </summary>
    /// <param name="path">Log file path; the directory is created if needed.</param>
    /// <param name="header">Log-level metadata.</param>
    /// <param name="durable">Also ask the disk to persist each episode (fsync); survives power loss, costs a disk flush per episode.</param>
    public static EpisodeLogWriter Create(string path, EpisodeLogHeader header, bool durable = false)
    {
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        return new EpisodeLogWriter(path, file, header, appending: false, durable);
    }

    /// <summary>
    /// Opens an existing log to append more episodes (creates it when absent). The header must
    /// describe the same environment and layout. A damaged tail (torn last message of a killed
    /// writer) and the end-of-stream marker are cut off first; <paramref name="repairedTail"/>
    /// says what was cut.
    /// </summary>
    public static EpisodeLogWriter Append(string path, EpisodeLogHeader header, out EpisodeLogDamage? repairedTail, bool durable = false)
    {
        repairedTail = null;
        if (!File.Exists(path) || new FileInfo(path).Length == 0) return Create(path, header, durable);
        long keep, next = 0;
        using (var reader = EpisodeLogReader.Open(path))
        {
            var existing = reader.Header;
            if (!SameRecording(existing, header))
                throw new InvalidOperationException($"Cannot append to {path}: it records {existing.EnvId} with another layout or options; write a new log.");
            foreach (var e in reader.ReadEpisodes()) next = Math.Max(next, e.Index + 1);
            repairedTail = reader.Damage;
            keep = reader.EndOfLastCompleteMessage;
        }
        var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        file.SetLength(keep);
        file.Seek(0, SeekOrigin.End);
        return new EpisodeLogWriter(path, file, header, appending: true, durable, next);
    }

    /// <summary>Encodes <paramref name="episode"/> as one record batch and writes it durably to the file (thread-safe).</summary>
    public void Write(RecordedEpisode episode)
    {
        if (episode.Observations.Length != Header.Modalities.Count)
            throw new ArgumentException($"Episode {episode.Index} has {episode.Observations.Length} modalities; the log has {Header.Modalities.Count}.", nameof(episode));
        var columns = new RecordedEpisodeColumns(episode);
        lock (_gate) WriteLocked(columns);
    }

    /// <summary>Writes the episode a builder has just closed, straight from its buffers (the recorder's path).</summary>
    internal void Write(EpisodeBuilder closed)
    {
        lock (_gate) WriteLocked(closed);
    }

    private void WriteLocked(IEpisodeColumns episode)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WriteToFile(_encoder.Encode(episode));
        EpisodesWritten++;
    }

    private void WriteToFile(ReadOnlySpan<byte> message)
    {
        // One write call per episode: the kernel gets the whole message at once, so a killed
        // process leaves it complete (the page cache outlives the process); nothing is held back.
        _file.Write(message);
        if (_durable) _file.Flush(flushToDisk: true);
    }

    /// <summary>Writes the end-of-stream marker and closes the file.</summary>
    public void Dispose()
    {
        lock (_gate) DisposeLocked();
    }

    private void DisposeLocked()
    {
        if (_disposed) return;
        _disposed = true;
        // Arrow's end-of-stream marker: continuation, then a zero metadata length.
        Span<byte> end = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(end, IpcFraming.Continuation);
        WriteToFile(end);
        _file.Dispose();
    }

    private static bool SameRecording(EpisodeLogHeader a, EpisodeLogHeader b) =>
        a.EnvId == b.EnvId && a.EnvOptionsJson == b.EnvOptionsJson && a.Wrappers.SequenceEqual(b.Wrappers)
        && a.ActionCount == b.ActionCount && a.Modalities.Count == b.Modalities.Count
        && a.Modalities.Zip(b.Modalities).All(p => p.First.Name == p.Second.Name && p.First.Storage == p.Second.Storage
            && p.First.Shape.SequenceEqual(p.Second.Shape) && p.First.Encoding == p.Second.Encoding);
}
