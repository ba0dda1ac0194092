using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Features.Drills;
using Portal.Features.Identity;
using Portal.Features.Protection;

namespace Portal.Features.Reports;

/// <summary>
/// One protected item's RPO and RTO compliance now: its recovery point's age against the policy's RPO (and the share of
/// the last 30 days within it, <see cref="RpoCompliance"/>), and what its drills prove: the last proven point, the full
/// restore estimate against the RTO target. <see cref="RtoMet"/> is null without a target.
/// </summary>
public sealed record ItemComplianceRow(
    Guid ItemId, string Item, Guid VaultId, string Vault, TimeSpan? RpoNow, TimeSpan? RpoTarget, double? RpoCompliance30Days, bool? RpoMet,
    string DrillStatus, bool ProvenRecoverable, string? ProvenSnapshotId, DateTime? ProvenAt, TimeSpan? EstimatedFullRestore, TimeSpan? RtoTarget, bool? RtoMet);

/// <summary>A vault's items against their RPO and RTO: how many meet each (of those with a target) and how many are proven recoverable.</summary>
public sealed record VaultComplianceRow(Guid VaultId, string Vault, int Items, int RpoMet, int WithRpoTarget, int RtoMet, int WithRtoTarget, int ProvenRecoverable);

public sealed record ComplianceSummary(IReadOnlyList<ItemComplianceRow> Items, IReadOnlyList<VaultComplianceRow> Vaults);

/// <summary>RPO and RTO compliance per protected item and per vault, for the Backup center and Reports.</summary>
public sealed class ComplianceReport(IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, IOptionsMonitor<DrillOptions> drillOptions, TimeProvider clock)
{
    /// <summary>
    /// Every protected item's compliance now. <paramref name="rpoHistory"/>: also the share of the last 30 days within the
    /// RPO (<see cref="ItemComplianceRow.RpoCompliance30Days"/>, null without it), which reads every recovery point of the
    /// window: the CSV export asks for it; the pages, which do not show it, do not (issue 25: at 10,000 items it was most
    /// of the Backup center's time).
    /// </summary>
    public async Task<ComplianceSummary> SummarizeAsync(Guid? vaultId = null, bool rpoHistory = false, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view reports");
        var now = clock.GetUtcNow().UtcDateTime;
        var maxAge = drillOptions.CurrentValue.DrillMaxAge;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.BackupItems.AsNoTracking().Where(i => i.State == ProtectionState.Protected);
        if (vaultId is { } v) query = query.Where(i => i.VaultId == v);
        var names = await query.Select(i => new { i.Id, i.Name, i.VaultId, Vault = i.Vault!.Name }).ToDictionaryAsync(i => i.Id, ct);
        var limits = await ItemHealthIndex.RpoLimitsAsync(db, ct);
        var health = await ItemHealthIndex.LoadAsync(db, query, limits, now, ct);
        var rpo = rpoHistory ? await RpoCompliance.OverManyAsync(db, names.Keys, limits, now, ct) : []; // in PostgreSQL: one row per item
        var drills = await DrillCompliance.LoadAsync(db, ct);

        var items = health.Where(h => names.ContainsKey(h.Id)).Select(h =>
        {
            var name = names[h.Id];
            var drill = drills.GetValueOrDefault(h.Id);
            TimeSpan? age = h.LatestPointAt is { } at ? now - at : null;
            return new ItemComplianceRow(h.Id, name.Name, name.VaultId, name.Vault, age, h.RpoTarget,
                h.RpoLimit is not null ? rpo.GetValueOrDefault(h.Id) : null,
                h.RpoLimit is { } l ? age <= l : null,
                drill?.Describe(now, maxAge) ?? "Never drilled", drill?.ProvenRecoverable(now, maxAge) == true, drill?.ProvenSnapshotId, drill?.ProvenAt,
                drill?.EstimatedFullRestore, drill?.RtoTarget, drill?.RtoMet);
        }).OrderBy(r => r.Vault, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Item, StringComparer.OrdinalIgnoreCase).ToList();

        var vaults = items.GroupBy(r => (r.VaultId, r.Vault)).Select(g => new VaultComplianceRow(g.Key.VaultId, g.Key.Vault, g.Count(),
                g.Count(r => r.RpoMet == true), g.Count(r => r.RpoMet is not null), g.Count(r => r.RtoMet == true), g.Count(r => r.RtoMet is not null),
                g.Count(r => r.ProvenRecoverable)))
            .OrderBy(r => r.Vault, StringComparer.OrdinalIgnoreCase).ToList();
        return new ComplianceSummary(items, vaults);
    }
}
