using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Sets VER_FLG_WEAK on the version-need (vernaux) entry named <see cref="VersionName"/> in
/// 64-bit little-endian ELF files, so the dynamic loader tolerates a libstdc++ that lacks it.
/// Layouts follow the ELF gABI: Elf64_Ehdr, Elf64_Shdr, Elf64_Verneed, Elf64_Vernaux.
/// </summary>
public sealed class RLAgentsWeakenGlibcxxNeed : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                int patched = Patch(path, VersionName);
                if (patched > 0)
                    Log.LogMessage(MessageImportance.High, "Marked " + VersionName + " weak in " + path);
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                Log.LogError("Could not patch {0}: {1}", path, e.Message);
                return false;
            }
        }
        return true;
    }

    /// <summary>Returns how many entries were changed (0 when already weak or absent).</summary>
    private static int Patch(string path, string versionName)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");

        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int changed = 0;
        for (int s = 0; s < shnum; s++)
        {
            int sh = checked((int)shoff + s * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            int link = (int)BitConverter.ToUInt32(elf, sh + 40);           // string table section index
            int need = checked((int)BitConverter.ToUInt64(elf, sh + 24));  // sh_offset
            int count = (int)BitConverter.ToUInt32(elf, sh + 44);          // sh_info: number of Verneed entries
            int strSh = checked((int)shoff + link * shentsize);
            int strOff = checked((int)BitConverter.ToUInt64(elf, strSh + 24));

            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    int nameOff = strOff + (int)BitConverter.ToUInt32(elf, aux + 8);
                    if (ReadCString(elf, nameOff) == versionName)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & VerFlgWeak) == 0)
                        {
                            flags |= VerFlgWeak;
                            elf[aux + 4] = (byte)(flags & 0xff);
                            elf[aux + 5] = (byte)(flags >> 8);
                            changed++;
                        }
                    }
                    uint nextAux = BitConverter.ToUInt32(elf, aux + 12);
                    if (nextAux == 0) break;
                    aux += (int)nextAux;
                }
                uint next = BitConverter.ToUInt32(elf, need + 12);
                if (next == 0) break;
                need += (int)next;
            }
        }
        if (changed > 0)
        {
            // Write beside, then replace: a half-written native library is never left behind
            // (the task runs on .NET Standard, which lacks File.Move with overwrite).
            string tmp = path + ".patching";
            File.WriteAllBytes(tmp, elf);
            File.Copy(tmp, path, true);
            File.Delete(tmp);
        }
        return changed;
    }

    private static string ReadCString(byte[] data, int offset)
    {
        int end = offset;
        while (end < data.Length && data[end] != 0) end++;
        return Encoding.ASCII.GetString(data, offset, end - offset);
    }
}
