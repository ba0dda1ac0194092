namespace Portal.Engine.Operations;

/// <summary>What comparing restored files with a recovery point's listing found: a restore drill's check, on the portal host or a machine.</summary>
/// <param name="Files">Files restored with the listed size and modification time.</param>
/// <param name="Bytes">Their bytes.</param>
/// <param name="Problems">Each other file, in words (its path and what differs).</param>
public sealed record RestoredFilesCheck(long Files, long Bytes, IReadOnlyList<string> Problems)
{
    /// <summary>
    /// Compares each of <paramref name="files"/> (file entries of the point's listing, paths relative to its root) with
    /// the file restored under <paramref name="target"/>: it must exist, with the listed size and modification time. The
    /// restore verified the content as it wrote it (every chunk's keyed hash, every file's fingerprint).
    /// </summary>
    public static RestoredFilesCheck Compare(string target, IEnumerable<TreeEntry> files)
    {
        var problems = new List<string>();
        long count = 0, bytes = 0;
        foreach (var entry in files)
        {
            var restored = new FileInfo(Path.Combine(target, entry.Path));
            if (!restored.Exists)
                problems.Add($"{entry.Path}: not restored.");
            else if (restored.Length != entry.Size)
                problems.Add($"{entry.Path}: {restored.Length:N0} bytes restored, the recovery point lists {entry.Size:N0}.");
            else if (restored.LastWriteTimeUtc != entry.ModifiedUtc.UtcDateTime)
                problems.Add($"{entry.Path}: modified {restored.LastWriteTimeUtc:yyyy-MM-dd HH:mm:ss.fff} restored, the recovery point lists {entry.ModifiedUtc.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}.");
            else
            {
                count++;
                bytes += entry.Size;
            }
        }
        return new RestoredFilesCheck(count, bytes, problems);
    }
}
