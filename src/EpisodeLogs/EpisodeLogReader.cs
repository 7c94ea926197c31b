using Apache.Arrow;
using Apache.Arrow.Ipc;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>Where and why a log stops being readable.</summary>
/// <param name="Offset">Byte offset of the first damaged message.</param>
/// <param name="Reason">What is wrong there.</param>
/// <param name="CompleteEpisodes">Episodes read intact before the damage.</param>
public sealed record EpisodeLogDamage(long Offset, string Reason, int CompleteEpisodes)
{
    /// <inheritdoc />
    public override string ToString() => $"episode log damaged at byte {Offset}: {Reason} ({CompleteEpisodes} complete episode(s) before it)";
}

/// <summary>A whole log read into memory.</summary>
/// <param name="Path">The file.</param>
/// <param name="Header">Log-level metadata.</param>
/// <param name="Episodes">Every complete episode, in file order.</param>
/// <param name="Damage">The damage that stopped reading, or null when the log is intact.</param>
public sealed record EpisodeLog(string Path, EpisodeLogHeader Header, IReadOnlyList<RecordedEpisode> Episodes, EpisodeLogDamage? Damage)
{
    /// <summary>True when the log was read to its end without damage.</summary>
    public bool IsIntact => Damage is null;

    /// <summary>Throws <see cref="EpisodeLogFormatException"/> when the log is damaged (for commands that must exit non-zero).</summary>
    public EpisodeLog ThrowIfDamaged() => Damage is null ? this
        : throw new EpisodeLogFormatException($"{Damage.Reason} ({Damage.CompleteEpisodes} complete episode(s) before it)", Damage.Offset);

    /// <summary>The episode with index <paramref name="index"/>; the error lists the range present.</summary>
    public RecordedEpisode Episode(long index) => Episodes.FirstOrDefault(e => e.Index == index)
        ?? throw new KeyNotFoundException(Episodes.Count == 0
            ? $"Episode {index} is not in {Path}: the log holds no complete episode."
            : $"Episode {index} is not in {Path}: it holds {Episodes.Count} episode(s), indices {Episodes[0].Index}..{Episodes[^1].Index}.");
}

/// <summary>
/// Reads an episode log episode by episode, tolerant of damage: every complete episode before a
/// truncated or corrupted message is returned, then reading stops and <see cref="Damage"/> says
/// where (byte offset) and why. A damaged schema (nothing readable) throws
/// <see cref="EpisodeLogFormatException"/> from <see cref="Open"/>.
/// </summary>
public sealed class EpisodeLogReader : IDisposable
{
    private readonly FileStream _file;
    private readonly FeedStream _feed = new();
    private readonly ArrowStreamReader _arrow;

    private EpisodeLogReader(string path, FileStream file)
    {
        Path = path;
        _file = file;
        var status = IpcFraming.ReadFrame(_file, out var msg, out var bytes, out string reason);
        if (status == IpcFraming.FrameStatus.CleanEof) throw new EpisodeLogFormatException("the file is empty", 0);
        if (status != IpcFraming.FrameStatus.Message) throw new EpisodeLogFormatException(status == IpcFraming.FrameStatus.EndOfStream ? "the stream ends before its schema" : reason, 0);
        if (msg.Kind != IpcMessageKind.Schema) throw new EpisodeLogFormatException($"the first message is a {msg.Kind}, not a schema", 0);
        _feed.Feed(bytes);
        _arrow = new ArrowStreamReader(_feed, leaveOpen: true);
        Schema schema;
        try
        {
            schema = _arrow.Schema;
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException or NotSupportedException)
        {
            throw new EpisodeLogFormatException($"unreadable schema ({ex.Message})", 0);
        }
        Header = EpisodeLogFormat.ParseHeader(schema);
        EndOfLastCompleteMessage = _file.Position;
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
        return new EpisodeLog(path, reader.Header, episodes, reader.Damage);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Log-level metadata from the schema.</summary>
    public EpisodeLogHeader Header { get; }

    /// <summary>Set once <see cref="ReadEpisodes"/> hit damage; null while intact.</summary>
    public EpisodeLogDamage? Damage { get; private set; }

    /// <summary>True when reading reached Arrow's end-of-stream marker (the writer closed cleanly).</summary>
    public bool SawEndOfStream { get; private set; }

    /// <summary>Byte offset just after the last intact message (where an appender continues).</summary>
    public long EndOfLastCompleteMessage { get; private set; }

    /// <summary>Episodes read so far.</summary>
    public int EpisodesRead { get; private set; }

    /// <summary>Streams the complete episodes in file order; stops at the end or at the first damage.</summary>
    public IEnumerable<RecordedEpisode> ReadEpisodes()
    {
        while (Damage is null)
        {
            long offset = _file.Position;
            var status = IpcFraming.ReadFrame(_file, out var msg, out var bytes, out string reason);
            if (status == IpcFraming.FrameStatus.CleanEof) yield break;
            if (status == IpcFraming.FrameStatus.EndOfStream)
            {
                SawEndOfStream = true;
                if (_file.Position != _file.Length)
                    Damage = new EpisodeLogDamage(_file.Position, $"{_file.Length - _file.Position} byte(s) after the end-of-stream marker", EpisodesRead);
                yield break;
            }
            if (status == IpcFraming.FrameStatus.Damaged)
            {
                Damage = new EpisodeLogDamage(offset, reason, EpisodesRead);
                yield break;
            }
            if (msg.Kind != IpcMessageKind.RecordBatch)
            {
                Damage = new EpisodeLogDamage(offset, $"unexpected {msg.Kind} message (episode logs hold record batches only)", EpisodesRead);
                yield break;
            }
            var episode = Decode(bytes, offset);
            if (episode is null) yield break;
            EpisodesRead++;
            EndOfLastCompleteMessage = _file.Position;
            yield return episode;
        }
    }

    private RecordedEpisode? Decode(byte[] message, long offset)
    {
        try
        {
            _feed.Feed(message);
            using var batch = _arrow.ReadNextRecordBatch()
                ?? throw new EpisodeLogFormatException("the record batch message is empty", offset);
            return EpisodeBatchCodec.Decode(batch, Header, offset);
        }
        catch (EpisodeLogFormatException ex)
        {
            Damage = new EpisodeLogDamage(offset, ex.Reason, EpisodesRead);
        }
        // The Arrow reader validates buffers as it slices them; garbage surfaces as these.
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or InvalidOperationException
                                       or IndexOutOfRangeException or OverflowException or NotSupportedException or InvalidCastException)
        {
            Damage = new EpisodeLogDamage(offset, $"undecodable record batch ({ex.Message})", EpisodesRead);
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
