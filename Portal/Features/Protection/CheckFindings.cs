using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Operations;

namespace Portal.Features.Protection;

/// <summary>
/// A check's damaged objects in an operator's words: each names the recovery points it affects (item and time, from
/// the catalog; the snapshot's short id when the catalog no longer has it) and up to twenty of the files.
/// </summary>
public static class CheckFindings
{
    public static async Task<IReadOnlyList<string>> DescribeAsync(IDbContextFactory<PortalDbContext> dbFactory, Guid vaultId, IReadOnlyList<CheckProblem> problems, CancellationToken ct)
    {
        var ids = problems.SelectMany(p => p.Snapshots).Distinct().ToList();
        Dictionary<string, string> points;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            points = (await db.RecoveryPoints.AsNoTracking().Where(p => p.VaultId == vaultId && ids.Contains(p.SnapshotId))
                    .Select(p => new { p.SnapshotId, p.CreatedAt, Item = p.Item!.Name }).ToListAsync(ct))
                .GroupBy(p => p.SnapshotId).ToDictionary(g => g.Key, g => $"{g.First().Item} at {Common.Format.Utc(g.First().CreatedAt)}");
        return [.. problems.Select(p =>
            $"{p.ObjectName}: {p.Problem}" +
            (p.Snapshots.Count > 0 ? $" Recovery points affected: {string.Join("; ", p.Snapshots.Select(s => points.GetValueOrDefault(s) ?? $"point {s[..Math.Min(8, s.Length)]} (no longer in the catalog)"))}." : "") +
            (p.Files.Count > 0 ? $" Files: {string.Join(", ", p.Files.Take(20))}{(p.Files.Count > 20 ? $" and {p.Files.Count - 20} more" : "")}." : ""))];
    }

    /// <summary>What an operator does about damaged objects.</summary>
    public const string NextStep =
        "For a vault with LRS copies, the region's scrub heals copies that are good elsewhere; back the affected items up again so that new points do not depend on them.";
}
