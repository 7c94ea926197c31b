using System.Buffers.Binary;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>
/// Reads the manifest resources embedded in a .NET assembly file as streams, with
/// <see cref="PEReader"/> only: the assembly is never loaded, so none of its code runs. A resource
/// is stored in the CLI header's resources directory as a 4-byte little-endian length followed by
/// the bytes; the stream returned is a read-only window onto the file at that place, so a 90 MB
/// model is not copied into memory to be read.
/// </summary>
public static class AssemblyResources
{
    /// <summary>Names of the resources embedded in the assembly at <paramref name="assemblyPath"/>.</summary>
    public static IReadOnlyList<string> List(string assemblyPath)
    {
        using var file = OpenFile(assemblyPath);
        using var pe = new PEReader(file, PEStreamOptions.LeaveOpen);
        return Entries(pe, file, assemblyPath).Select(e => e.Name).ToList();
    }

    /// <summary>
    /// Opens the resource <paramref name="resourceName"/>; the caller disposes the stream. Throws
    /// <see cref="PretrainedModelException"/> naming the file when it is missing, is not a .NET
    /// assembly, or does not embed the resource.
    /// </summary>
    public static Stream Open(string assemblyPath, string resourceName)
    {
        var file = OpenFile(assemblyPath);
        try
        {
            long start, length;
            using (var pe = new PEReader(file, PEStreamOptions.LeaveOpen))
            {
                var entries = Entries(pe, file, assemblyPath);
                var entry = entries.FirstOrDefault(e => e.Name == resourceName);
                if (entry.Name is null)
                    throw new PretrainedModelException($"{assemblyPath}: no embedded resource '{resourceName}' (it has: {string.Join(", ", entries.Select(e => e.Name))}).");
                (start, length) = (entry.Start, entry.Length);
            }
            return new WindowStream(file, start, length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static FileStream OpenFile(string assemblyPath)
    {
        if (!File.Exists(assemblyPath)) throw new PretrainedModelException($"{assemblyPath}: file not found.");
        return new FileStream(assemblyPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    private readonly record struct Entry(string Name, long Start, long Length);

    private static List<Entry> Entries(PEReader pe, FileStream file, string assemblyPath)
    {
        try
        {
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is not { } cor)
                throw new PretrainedModelException($"{assemblyPath}: not a .NET assembly (no CLI header).");
            var metadata = pe.GetMetadataReader();
            var directory = cor.ResourcesDirectory;
            if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out int directoryOffset))
                throw new PretrainedModelException($"{assemblyPath}: the resources directory lies outside the file's sections.");
            var entries = new List<Entry>();
            var lengthBytes = new byte[4];
            foreach (var handle in metadata.ManifestResources)
            {
                var resource = metadata.GetManifestResource(handle);
                if (!resource.Implementation.IsNil) continue;  // linked from another file, not embedded here
                long at = directoryOffset + resource.Offset;
                if (resource.Offset + 4 > directory.Size)
                    throw new PretrainedModelException($"{assemblyPath}: resource '{metadata.GetString(resource.Name)}' starts at offset {resource.Offset}, past the resources directory ({directory.Size} bytes).");
                string name = metadata.GetString(resource.Name);
                if (RandomAccess.Read(file.SafeFileHandle, lengthBytes, at) != 4)
                    throw new PretrainedModelException($"{assemblyPath}: truncated at resource '{name}' (byte {at}).");
                long length = BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
                if (resource.Offset + 4 + length > directory.Size)
                    throw new PretrainedModelException($"{assemblyPath}: resource '{name}' ({length} bytes at offset {resource.Offset}) overruns the resources directory ({directory.Size} bytes).");
                entries.Add(new Entry(name, at + 4, length));
            }
            return entries;
        }
        catch (BadImageFormatException e)
        {
            throw new PretrainedModelException($"{assemblyPath}: not a valid .NET assembly ({e.Message}).");
        }
    }

    /// <summary>A read-only, seekable window [start, start + length) of a file; disposing it closes the file.</summary>
    private sealed class WindowStream(FileStream file, long start, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => _position = value is >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            long remaining = length - _position;
            if (remaining <= 0) return 0;
            if (buffer.Length > remaining) buffer = buffer[..(int)remaining];
            file.Position = start + _position;
            int read = file.Read(buffer);
            _position += read;
            return read;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) file.Dispose();
            base.Dispose(disposing);
        }
    }
}
