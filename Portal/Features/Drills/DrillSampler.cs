using System.Security.Cryptography;
using System.Text;
using Portal.Engine.Operations;

namespace Portal.Features.Drills;

/// <summary>The files a sampled drill restores, and where the next drill of the item goes on.</summary>
public sealed record DrillSample(IReadOnlyList<TreeEntry> Files, bool Whole, string? Cursor);

/// <summary>
/// Picks a drill's sample from a recovery point's listing. The item's files are shuffled in an order of their own (a
/// keyed hash of item and path, so no one can arrange which files are drilled), and each drill takes the next N files
/// (or the next X bytes) after where the previous drill of the item stopped, wrapping around: every file is drilled
/// once every ceil(files / N) drills, and two drills in a row restore different files. A file added since joins the
/// order where its hash puts it.
/// </summary>
public static class DrillSampler
{
    public static DrillSample Choose(Guid itemId, IReadOnlyList<TreeEntry> files, DrillSampleKind kind, long size, string? previousCursor)
    {
        if (kind == DrillSampleKind.Whole || files.Count == 0)
            return new DrillSample(files, Whole: true, Cursor: null);
        var ordered = files.Select(f => (Key: Key(itemId, f.Path), File: f)).OrderBy(f => f.Key, StringComparer.Ordinal).ToList();
        var start = previousCursor is null ? 0 : ordered.FindIndex(f => string.CompareOrdinal(f.Key, previousCursor) > 0);
        if (start < 0)
            start = 0; // the previous drill ended at the last file: wrap around
        var chosen = new List<(string Key, TreeEntry File)>();
        long bytes = 0;
        for (var i = 0; i < ordered.Count; i++)
        {
            var next = ordered[(start + i) % ordered.Count];
            chosen.Add(next);
            bytes += next.File.Size;
            if (kind == DrillSampleKind.Files ? chosen.Count >= size : bytes >= size)
                break;
        }

        return chosen.Count == ordered.Count
            ? new DrillSample(files, Whole: true, Cursor: null)
            : new DrillSample([.. chosen.Select(c => c.File)], Whole: false, Cursor: chosen[^1].Key);
    }

    private static string Key(Guid itemId, string path) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{itemId:N}/{path}")))[..32];
}
