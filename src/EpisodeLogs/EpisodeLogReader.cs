using System.Buffers.Binary;
using RLAgents.Core;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>Where and why part of a log could not be read.</summary>
/// <param name="Offset">Byte offset of the first damaged byte (the start of the damaged message).</param>
/// <param name="Reason">What is wrong there.</param>
/// <param name="CompleteEpisodes">Episodes read intact before the damage.</param>
/// <param name="Length">Bytes skipped before reading resumed at the next intact message, or null when nothing readable follows.</param>
public sealed record EpisodeLogDamage(long Offset, string Reason, int CompleteEpisodes, long? Length = null)
{
    /// <summary>Byte offset just after the damaged bytes, or null when they run to the end of the file.</summary>
    public long? End => Length is long n ? Offset + n : null;

    /// <inheritdoc />
    public override string ToString() => $"episode log damaged at byte {Offset}: {Reason} ({CompleteEpisodes} complete episode(s) before it"
        + (Length is long n ? $"; {n} byte(s) skipped, reading resumed at byte {Offset + n})" : ")");
}

/// <summary>A whole log read into memory.</summary>
/// <param name="Path">The file.</param>
/// <param name="Header">Log-level metadata.</param>
/// <param name="Episodes">Every complete episode, in file order.</param>
/// <param name="Damages">Every damaged region met, in file order (empty when the log is intact).</param>
public sealed record EpisodeLog(string Path, EpisodeLogHeader Header, IReadOnlyList<RecordedEpisode> Episodes, IReadOnlyList<EpisodeLogDamage> Damages)
{
    /// <summary>The first damaged region, or null when the log is intact.</summary>
    public EpisodeLogDamage? Damage => Damages.Count > 0 ? Damages[0] : null;

    /// <summary>True when the log was read to its end without damage.</summary>
    public bool IsIntact => Damage is null;

    /// <summary>Throws <see cref="EpisodeLogFormatException"/> when the log is damaged (for commands that must exit non-zero).</summary>
    public EpisodeLog ThrowIfDamaged() => Damage is null ? this
        : throw new EpisodeLogFormatException($"{Damage.Reason} ({Damage.CompleteEpisodes} complete episode(s) before it)", Damage.Offset);

    /// <summary>The episode with index <paramref name="index"/>; the error (<see cref="InputException"/>) lists the range present.</summary>
    public RecordedEpisode Episode(long index) => Episodes.FirstOrDefault(e => e.Index == index)
        ?? throw new InputException(Episodes.Count == 0
            ? $"episode {index} is not in {Path}: the log holds no complete episode"
            : $"episode {index} is not in {Path}: it holds {Episodes.Count} episode(s), indices {Episodes.Min(e => e.Index)}..{Episodes.Max(e => e.Index)}");
}

/// <summary>
/// Reads an episode log episode by episode, tolerant of damage: every record batch is checked against
/// its CRC-32C (format 2) before it is decoded; a damaged, truncated or unreadable message is recorded
/// in <see cref="Damages"/> with its byte offset, and reading resumes at the next intact message (found
/// by its marker and checksum), so no complete episode after the damage is lost. Logs without
/// checksums (format 1) stop at their first damage. A damaged schema (nothing readable) throws
/// <see cref="EpisodeLogFormatException"/> from <see cref="Open"/>.
/// </summary>
public sealed class EpisodeLogReader : IDisposable
{
    private readonly FileStream _file;
    private readonly byte[] _schemaMessage;
    private readonly List<EpisodeLogDamage> _damages = [];
    private FeedStream _feed = new();
    private ArrowStreamReader _arrow;

    private EpisodeLogReader(string path, FileStream file)
    {
        Path = path;
        _file = file;
        var status = IpcFraming.ReadFrame(_file, out var msg, out var bytes, out string reason);
        if (status == IpcFraming.FrameStatus.CleanEof) throw new EpisodeLogFormatException("the file is empty", 0);
        if (status != IpcFraming.FrameStatus.Message) throw new EpisodeLogFormatException(status == IpcFraming.FrameStatus.EndOfStream ? "the stream ends before its schema" : reason, 0);
        if (msg.Kind != IpcMessageKind.Schema) throw new EpisodeLogFormatException($"the first message is a {msg.Kind}, not a schema", 0);
        // A format-2 schema is checked before Arrow parses it: damaged flatbuffers can send a parser anywhere.
        if (msg.ChecksumAt >= 0 && BatchChecksum.Problem(bytes, msg.ChecksumAt) is { } problem)
            throw new EpisodeLogFormatException($"the schema (bytes 0..{bytes.Length}) is damaged: {problem}", 0);
        if (msg.ChecksumAt < 0 && bytes.AsSpan().IndexOf(BatchChecksum.KeyBytes) >= 0)
            throw new EpisodeLogFormatException($"the schema (bytes 0..{bytes.Length}) is damaged: its checksum entry cannot be located", 0);
        _schemaMessage = bytes;
        _arrow = NewArrowReader(out var schema);
        Header = EpisodeLogFormat.ParseHeader(schema);
        Checksummed = Header.FormatVersion >= 2;
        EndOfLastCompleteMessage = _file.Position;
    }

    // A fresh Arrow reader that has read the schema: after damage, the previous one's state is not trusted.
    private ArrowStreamReader NewArrowReader(out Schema schema)
    {
        _feed = new FeedStream();
        _feed.Feed(_schemaMessage);
        var arrow = new ArrowStreamReader(_feed, leaveOpen: true);
        try
        {
            schema = arrow.Schema;
            return arrow;
        }
        // Apache.Arrow reports malformed flatbuffers with assorted exceptions, some plain System.Exception: on
        // these untrusted bytes every one of them means damage, which is reported where it is, never swallowed.
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            arrow.Dispose();
            throw new EpisodeLogFormatException($"unreadable schema ({ex.Message})", 0);
        }
    }

    /// <summary>Opens <paramref name="path"/> and reads its header; throws <see cref="FileNotFoundException"/> or <see cref="EpisodeLogFormatException"/>.</summary>
    public static EpisodeLogReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Episode log not found: {path}", path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1 << 16);
        try
        {
            return new EpisodeLogReader(path, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the whole log: header, every complete episode, and the damage if any.</summary>
    public static EpisodeLog ReadAll(string path)
    {
        using var reader = Open(path);
        var episodes = reader.ReadEpisodes().ToList();
        return new EpisodeLog(path, reader.Header, episodes, [.. reader.Damages]);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Log-level metadata from the schema.</summary>
    public EpisodeLogHeader Header { get; }

    /// <summary>True when every record batch must carry a checksum (format 2 and later).</summary>
    public bool Checksummed { get; }

    /// <summary>The first damaged region met so far; null while intact.</summary>
    public EpisodeLogDamage? Damage => _damages.Count > 0 ? _damages[0] : null;

    /// <summary>Every damaged region met so far, in file order.</summary>
    public IReadOnlyList<EpisodeLogDamage> Damages => _damages;

    /// <summary>True when reading reached Arrow's end-of-stream marker (the writer closed cleanly).</summary>
    public bool SawEndOfStream { get; private set; }

    /// <summary>Byte offset just after the last intact message (where an appender continues).</summary>
    public long EndOfLastCompleteMessage { get; private set; }

    /// <summary>Episodes read so far.</summary>
    public int EpisodesRead { get; private set; }

    /// <summary>Byte offset where the message of the episode last returned starts (it ends at <see cref="EndOfLastCompleteMessage"/>).</summary>
    public long LastMessageOffset { get; private set; }

    /// <summary>The schema message's bytes (the start of every copy of this log).</summary>
    internal ReadOnlySpan<byte> SchemaMessage => _schemaMessage;

    /// <summary>
    /// Streams the complete episodes in file order, to the end of the file or of the stream. Damage is
    /// recorded in <see cref="Damages"/>; in a checksummed log reading resumes after it.
    /// </summary>
    public IEnumerable<RecordedEpisode> ReadEpisodes()
    {
        while (true)
        {
            long offset = _file.Position;
            var status = IpcFraming.ReadFrame(_file, out var msg, out var bytes, out string reason);
            if (status == IpcFraming.FrameStatus.CleanEof) yield break;
            if (status == IpcFraming.FrameStatus.EndOfStream)
            {
                SawEndOfStream = true;
                if (_file.Position != _file.Length)
                    _damages.Add(new EpisodeLogDamage(_file.Position, $"{_file.Length - _file.Position} byte(s) after the end-of-stream marker", EpisodesRead));
                yield break;
            }
            RecordedEpisode? episode = null;
            if (status == IpcFraming.FrameStatus.Damaged) { }
            else if (msg.Kind != IpcMessageKind.RecordBatch) reason = $"unexpected {msg.Kind} message (episode logs hold record batches only)";
            else if (msg.ChecksumAt < 0 && Checksummed) reason = "record batch carries no checksum";
            else if (msg.ChecksumAt >= 0 && BatchChecksum.Problem(bytes, msg.ChecksumAt) is { } problem) reason = problem;
            else episode = Decode(bytes, offset, out reason);
            if (episode is not null)
            {
                EpisodesRead++;
                LastMessageOffset = offset;
                EndOfLastCompleteMessage = _file.Position;
                yield return episode;
                continue;
            }
            // Damage: with checksums the next intact message is recognisable, so reading goes on from there.
            long? next = Checksummed ? FindNextMessage(offset + 8) : null;
            _damages.Add(new EpisodeLogDamage(offset, reason, EpisodesRead, next - offset));
            if (next is not long resume) yield break;
            _file.Position = resume;
            _arrow.Dispose();
            _arrow = NewArrowReader(out _);
        }
    }

    /// <summary>
    /// The offset of the first intact record batch at or after <paramref name="from"/>: messages start on 8-byte
    /// boundaries, so candidates are aligned markers whose frame parses and whose checksum holds. Null when none.
    /// </summary>
    private long? FindNextMessage(long from)
    {
        long candidate = (from + 7) & ~7L;
        var marker = new byte[4];
        for (; candidate + 8 <= _file.Length; candidate += 8)
        {
            _file.Position = candidate;
            _file.ReadExactly(marker);
            if (BinaryPrimitives.ReadUInt32LittleEndian(marker) != IpcFraming.Continuation) continue;
            _file.Position = candidate;
            if (IpcFraming.ReadFrame(_file, out var msg, out var bytes, out _) == IpcFraming.FrameStatus.Message
                && msg.Kind == IpcMessageKind.RecordBatch && msg.ChecksumAt >= 0 && BatchChecksum.Problem(bytes, msg.ChecksumAt) is null)
                return candidate;
            // An end-of-stream marker on a boundary ends the search: what follows it is not part of the stream.
            _file.Position = candidate;
            if (IpcFraming.ReadFrame(_file, out _, out _, out _) == IpcFraming.FrameStatus.EndOfStream) return candidate;
        }
        return null;
    }

    private RecordedEpisode? Decode(byte[] message, long offset, out string reason)
    {
        reason = "";
        try
        {
            _feed.Feed(message);
            using var batch = _arrow.ReadNextRecordBatch()
                ?? throw new EpisodeLogFormatException("the record batch message is empty", offset);
            return EpisodeBatchCodec.Decode(batch, Header, offset);
        }
        catch (EpisodeLogFormatException ex)
        {
            reason = ex.Reason;
        }
        // The Arrow reader validates buffers as it slices them; garbage surfaces as assorted exceptions (see NewArrowReader).
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            reason = $"undecodable record batch ({ex.Message})";
        }
        return null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _arrow.Dispose();
        _file.Dispose();
    }
}
