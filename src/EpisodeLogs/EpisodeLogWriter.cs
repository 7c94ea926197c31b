using System.Buffers.Binary;
using Apache.Arrow.Ipc;
using RLAgents.Core;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>What <see cref="EpisodeLogWriter.Append"/> changed in an existing log before appending to it.</summary>
/// <param name="Path">The log.</param>
/// <param name="Damaged">Damaged regions in the middle of the log, now moved to <paramref name="DamagedBytesFile"/>.</param>
/// <param name="DamagedBytesFile">The side file holding the damaged bytes (offsets in <paramref name="Damaged"/>), or null.</param>
/// <param name="TornTail">Damage at the end of the log (a killed writer's last message), cut off; null when the tail was clean.</param>
/// <param name="AbandonedEpisodes">Intact episodes written after the resume point, cut off.</param>
/// <param name="BytesCut">Bytes cut from the end of the log (torn tail, end-of-stream marker, abandoned episodes).</param>
public sealed record EpisodeLogRepair(string Path, IReadOnlyList<EpisodeLogDamage> Damaged, string? DamagedBytesFile, EpisodeLogDamage? TornTail,
    int AbandonedEpisodes, long BytesCut)
{
    /// <summary>True when the change may need the user's attention: damaged bytes were set aside.</summary>
    public bool SetAside => Damaged.Count > 0;

    /// <inheritdoc />
    public override string ToString()
    {
        var parts = new List<string>();
        if (Damaged.Count > 0)
            parts.Add($"{Damaged.Sum(d => d.Length ?? 0)} damaged byte(s) at {string.Join(", ", Damaged.Select(d => $"byte {d.Offset} ({d.Reason})"))} moved to {DamagedBytesFile}; every intact episode kept");
        if (AbandonedEpisodes > 0) parts.Add($"{AbandonedEpisodes} episode(s) written after the checkpoint removed (the resumed run writes its own)");
        if (TornTail is not null) parts.Add($"an unfinished last message at byte {TornTail.Offset} cut off");
        return $"episode log {Path}: {string.Join("; ", parts)}";
    }
}

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
        WriteToFile(SealSchema(capture.Pending.ToArray()));
    }

    // Fills in the schema message's checksum digits, which the schema's metadata holds as a placeholder.
    private static byte[] SealSchema(byte[] message)
    {
        using var stream = new MemoryStream(message);
        if (IpcFraming.ReadFrame(stream, out var frame, out _, out string reason) != IpcFraming.FrameStatus.Message || frame.ChecksumAt < 0)
            throw new InvalidOperationException($"The schema message Arrow wrote has no checksum entry ({reason}).");
        BatchChecksum.Seal(message.AsSpan(0, (int)frame.TotalLength), frame.ChecksumAt);
        return message;
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
    /// Opens an existing log to append more episodes (creates it when absent). The header must describe the
    /// same environment and layout. Nothing complete is dropped silently; <paramref name="repair"/> says what
    /// changed (null when nothing did):
    /// <list type="bullet">
    /// <item>damaged bytes in the middle of the log (a checksum or framing error followed by intact episodes) are
    /// moved to a side file <c>&lt;log&gt;.damaged[-N]</c> and every intact episode is kept;</item>
    /// <item>a torn last message (a killed writer) and the end-of-stream marker are cut off;</item>
    /// <item>with <paramref name="keepBytes"/> (where the log ended at the checkpoint a run resumes from), the
    /// episodes written after it belong to the abandoned timeline and are cut off: the resumed run writes its own.</item>
    /// </list>
    /// </summary>
    /// <param name="path">The log.</param>
    /// <param name="header">The header of the episodes to append.</param>
    /// <param name="repair">What was changed in the existing log, or null.</param>
    /// <param name="durable">Ask the disk to persist each episode (fsync).</param>
    /// <param name="keepBytes">Keep only the episodes that end at or before this byte offset (null keeps every intact episode).</param>
    /// <exception cref="InputException">The log records another environment or layout.</exception>
    public static EpisodeLogWriter Append(string path, EpisodeLogHeader header, out EpisodeLogRepair? repair, bool durable = false, long? keepBytes = null)
    {
        repair = null;
        if (!File.Exists(path) || new FileInfo(path).Length == 0) return Create(path, header, durable);
        long next = 0, end;
        var kept = new List<(long Start, long End)>();
        var damaged = new List<EpisodeLogDamage>();
        int abandoned = 0;
        EpisodeLogDamage? torn = null;
        byte[] schema;
        using (var reader = EpisodeLogReader.Open(path))
        {
            var existing = reader.Header;
            if (!SameRecording(existing, header))
                throw new InputException($"cannot append to {path}: it records {existing.EnvId} with another layout or options; write a new log");
            schema = reader.SchemaMessage.ToArray();
            end = reader.EndOfLastCompleteMessage;
            foreach (var e in reader.ReadEpisodes())
            {
                if (keepBytes is long k && reader.EndOfLastCompleteMessage > k) { abandoned++; continue; }
                kept.Add((reader.LastMessageOffset, reader.EndOfLastCompleteMessage));
                next = Math.Max(next, e.Index + 1);
            }
            if (kept.Count > 0) end = kept[^1].End;
            foreach (var d in reader.Damages)
            {
                // Damage after the last kept episode is a torn tail or part of the abandoned timeline: cut with it.
                if (d.Offset >= end) torn ??= d;
                else damaged.Add(d);
            }
        }
        long cut = new FileInfo(path).Length - end;
        string? aside = damaged.Count > 0 ? SetAside(path, schema, kept, damaged) : null;
        // Cutting only the end-of-stream marker of a cleanly closed log changes nothing worth saying.
        if (damaged.Count > 0 || torn is not null || abandoned > 0) repair = new EpisodeLogRepair(path, damaged, aside, torn, abandoned, cut);
        var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        if (aside is null) file.SetLength(end);
        file.Seek(0, SeekOrigin.End);
        return new EpisodeLogWriter(path, file, header, appending: true, durable, next);
    }

    /// <summary>
    /// Rewrites <paramref name="path"/> as its schema and the <paramref name="kept"/> messages (atomically), after
    /// copying the <paramref name="damaged"/> byte ranges to a new side file, whose path it returns.
    /// </summary>
    private static string SetAside(string path, byte[] schema, List<(long Start, long End)> kept, List<EpisodeLogDamage> damaged)
    {
        string aside = path + ".damaged";
        for (int n = 2; File.Exists(aside); n++) aside = $"{path}.damaged-{n}";
        using var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        void Copy(Stream to, long start, long end)
        {
            source.Position = start;
            var buffer = new byte[1 << 16];
            for (long left = end - start; left > 0;)
            {
                int n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n == 0) break;
                to.Write(buffer, 0, n);
                left -= n;
            }
        }
        Core.AtomicFile.Write(aside, to =>
        {
            foreach (var d in damaged) Copy(to, d.Offset, d.End ?? d.Offset);
        });
        Core.AtomicFile.Write(path, to =>
        {
            to.Write(schema);
            foreach (var (start, end) in kept) Copy(to, start, end);
        });
        return aside;
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
