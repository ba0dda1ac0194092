using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Engine.Retention;
using Portal.Features.Common;
using Portal.Data;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Features.Vaults;

namespace Portal.Features.Policies;

/// <summary>
/// Backup policies of a vault: list, read, create, change, delete. Only Backup.Contributors change policies;
/// a change that would remove recovery points the policy keeps now is a critical operation (second approver).
/// </summary>
public sealed class PolicyService(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, AuditLog audit, ApprovalService approvals, IPolicyItems policyItems,
    IEnumerable<IVaultManifest> manifests, TimeProvider clock)
{
    public async Task<IReadOnlyList<PolicyDetails>> ListAsync(Guid vaultId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view backup policies");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var policies = await db.BackupPolicies.AsNoTracking().Where(p => p.VaultId == vaultId).OrderBy(p => p.NormalizedName).ToListAsync(ct);
        return [.. policies.Select(Details)];
    }

    public async Task<PolicyDetails?> GetAsync(Guid vaultId, string name, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view backup policies");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var normalized = name.Trim().ToUpperInvariant();
        return await db.BackupPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.VaultId == vaultId && p.NormalizedName == normalized, ct) is { } p
            ? Details(p)
            : null;
    }

    public Task<PolicyDetails> CreateAsync(Guid vaultId, string name, PolicyDefinition definition, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.PolicyCreate, $"policy/{name}", async user =>
        {
            Access.Require(user, "create backup policies", PortalRoles.Contributor);
            Validate(name, definition);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) ?? throw VaultService.Gone();
            var policy = NewPolicy(vaultId, name.Trim(), definition, user.DisplayName());
            db.BackupPolicies.Add(policy);
            audit.Append(db, user, AuditActions.PolicyCreate, Resource(vault.Name, policy.Name), Describe(definition));
            await SaveNewAsync(db, policy.Name, ct);
            await manifests.RefreshAsync(vaultId, ct);
            return Details(policy);
        });

    /// <summary>Saves a changed policy; a change that removes points it keeps now waits for a second approver instead.</summary>
    public Task<PolicyUpdateResult> UpdateAsync(Guid policyId, uint version, PolicyDefinition definition, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.PolicyUpdate, $"policy/{policyId}", async user =>
        {
            Access.Require(user, "change backup policies", PortalRoles.Contributor);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var policy = await db.BackupPolicies.FirstOrDefaultAsync(p => p.Id == policyId, ct) ?? throw Gone();
            Validate(policy.Name, definition);
            if (policy.Version != version)
                throw ChangedMeanwhile(policy);
            var vault = await db.Vaults.AsNoTracking().FirstAsync(v => v.Id == policy.VaultId, ct);
            var vaultName = vault.Name;
            var current = PolicyDefinition.FromJson(policy.Definition);
            if ((await EffectAsync(db, policy.Id, current, definition, ct)).NeedsApproval)
            {
                if (vault.IsImmutable())
                    throw VaultImmutabilityRules.Refusal(vault, $"reducing the retention of policy {policy.Name}",
                        "Keep or lengthen each retention; for shorter retention of new points, create another policy and move items to it.");
                var request = await approvals.AddRequestAsync(db, user, CriticalOperations.ReducePolicyRetention, policy.Id, Resource(vaultName, policy.Name),
                    $"Reduce the retention of policy {policy.Name} in vault {vaultName} to: {Describe(definition)}. Recovery points it keeps now would be removed at the next retention run.",
                    ct, definition.ToJson(), policy.Version);
                audit.Append(db, user, AuditActions.PolicyReduceRetentionRequest, Resource(vaultName, policy.Name), request.Summary);
                await db.SaveChangesAsync(ct);
                return new PolicyUpdateResult(Details(policy), ApprovalRequested: true);
            }

            Apply(policy, definition, user.DisplayName());
            audit.Append(db, user, AuditActions.PolicyUpdate, Resource(vaultName, policy.Name), Describe(definition));
            await SaveChangedAsync(db, policy, ct);
            await manifests.RefreshAsync(policy.VaultId, ct);
            return new PolicyUpdateResult(Details(policy), ApprovalRequested: false);
        });

    public Task DeleteAsync(Guid policyId, uint version, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.PolicyDelete, $"policy/{policyId}", async user =>
        {
            Access.Require(user, "delete backup policies", PortalRoles.Contributor);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var policy = await db.BackupPolicies.FirstOrDefaultAsync(p => p.Id == policyId, ct) ?? throw Gone();
            if (policy.Version != version)
                throw ChangedMeanwhile(policy);
            var vaultName = await db.Vaults.Where(v => v.Id == policy.VaultId).Select(v => v.Name).FirstAsync(ct);
            db.BackupPolicies.Remove(policy);
            audit.Append(db, user, AuditActions.PolicyDelete, Resource(vaultName, policy.Name));
            await SaveChangedAsync(db, policy, ct);
            await manifests.RefreshAsync(policy.VaultId, ct);
        });

    internal static BackupPolicy NewPolicy(Guid vaultId, string name, PolicyDefinition definition, string author)
    {
        var now = DateTime.UtcNow;
        return new BackupPolicy
        {
            Id = Guid.CreateVersion7(),
            VaultId = vaultId,
            Name = name,
            NormalizedName = name.ToUpperInvariant(),
            Definition = definition.ToJson(),
            CreatedAt = now,
            CreatedBy = author,
            UpdatedAt = now,
            UpdatedBy = author,
        };
    }

    internal static void Apply(BackupPolicy policy, PolicyDefinition definition, string author)
    {
        policy.Definition = definition.ToJson();
        policy.UpdatedAt = DateTime.UtcNow;
        policy.UpdatedBy = author;
    }

    /// <summary>
    /// What saving <paramref name="proposed"/> would do to the existing recovery points of the items this policy
    /// protects: per item, the points the next retention run would remove that the current policy keeps, and how
    /// many stay. Points a change would keep longer are simply kept longer.
    /// </summary>
    public async Task<RetentionPreview> PreviewAsync(Guid policyId, PolicyDefinition proposed, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("preview backup policies");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var policy = await db.BackupPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.Id == policyId, ct) ?? throw Gone();
        Validate(policy.Name, proposed); // a policy Save would refuse has no effect to preview
        return await EffectAsync(db, policyId, PolicyDefinition.FromJson(policy.Definition), proposed, ct);
    }

    /// <summary>
    /// The one rule for what changing <paramref name="current"/> to <paramref name="proposed"/> does, used by the preview and
    /// by the save alike: the existing points of each item the next retention run would remove, and whether the change
    /// needs a second approver (it removes an existing point, or shortens how long the policy keeps a point it makes).
    /// </summary>
    private async Task<RetentionPreview> EffectAsync(PortalDbContext db, Guid policyId, PolicyDefinition current, PolicyDefinition proposed, CancellationToken ct)
    {
        var items = await policyItems.RecoveryPointsAsync(db, policyId, ct);
        var now = clock.GetUtcNow();
        PolicyRules.TryZone(current.Schedule.TimeZoneId, out var currentZone);
        PolicyRules.TryZone(proposed.Schedule.TimeZoneId, out var proposedZone);
        var result = new List<ItemRetentionPreview>();
        foreach (var item in items)
        {
            var refs = item.Points;
            if (refs.Count == 0)
                continue;
            var before = RetentionCalculator.Evaluate(refs, current.Retention, currentZone, now).ToDictionary(d => d.Point.Id);
            var after = RetentionCalculator.Evaluate(refs, proposed.Retention, proposedZone, now);
            var removed = after.Where(d => d.Expired && !before[d.Point.Id].Expired).Select(d => d.Point.Time.UtcDateTime).Order().ToList();
            result.Add(new ItemRetentionPreview(item.Item, after.Count(d => !d.Expired), removed));
        }

        var needsApproval = result.Any(i => i.Removed.Count > 0) || PolicyRules.ReducesRetention(current, proposed, now);
        return new RetentionPreview(result, needsApproval);
    }

    internal static string Resource(string vault, string policy) => $"vault/{vault}/policy/{policy}";

    internal static PortalNotFoundException Gone() => new("This backup policy no longer exists: someone deleted it.");

    /// <summary>The policy in one line, as the audit log and approvers read it.</summary>
    public static string Describe(PolicyDefinition d)
    {
        var (s, r) = d;
        var when = s.Frequency == Engine.Retention.ScheduleFrequency.Daily ? "daily" : "weekly on " + string.Join(", ", s.Days.Select(x => x.ToString()[..3]));
        var parts = new List<string> { $"{when} at {string.Join(", ", s.Times.Select(t => t.ToString("HH:mm")))} {s.TimeZoneId}" };
        if (r.DailyDays is { } days) parts.Add($"daily points {days} days");
        if (r.Weekly is { } w) parts.Add($"weekly ({string.Join("/", w.Days.Select(x => x.ToString()[..3]))}) {w.Weeks} weeks");
        if (r.Monthly is { } mo) parts.Add($"monthly ({mo.Day}) {mo.Months} months");
        if (r.Yearly is { } y) parts.Add($"yearly ({Months(y.InMonths)}, {y.Day}) {y.Years} years");
        return string.Join("; ", parts);

        static string Months(IReadOnlyList<int> months) => string.Join("/", months.Select(x => System.Globalization.CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedMonthName(x)));
    }

    private void Validate(string name, PolicyDefinition definition)
    {
        var errors = PolicyRules.Validate(name, definition, clock.GetUtcNow());
        if (errors.Count > 0)
            throw new PortalValidationException(errors);
    }

    private static PolicyDetails Details(BackupPolicy p) =>
        new(p.Id, p.VaultId, p.Name, PolicyDefinition.FromJson(p.Definition), p.UpdatedAt, p.UpdatedBy, p.Version);

    private static async Task SaveNewAsync(PortalDbContext db, string name, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw new PortalValidationException("Name", $"This vault already has a policy named \"{name}\" (names are unique ignoring case).");
        }
    }

    private Task SaveChangedAsync(PortalDbContext db, BackupPolicy policy, CancellationToken ct) =>
        db.SaveOrExplainAsync(async () =>
        {
            await using var fresh = await dbFactory.CreateDbContextAsync(ct);
            var current = await fresh.BackupPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.Id == policy.Id, ct);
            return current is null ? Gone() : ChangedMeanwhile(current);
        }, ct);

    private static PortalConflictException ChangedMeanwhile(BackupPolicy current) =>
        new($"Policy {current.Name} was changed by {current.UpdatedBy} at {current.UpdatedAt:yyyy-MM-dd HH:mm:ss} UTC after you opened it. " +
            "Nothing was saved: reload to see the current policy, then make your change again.");
}

/// <summary>Applies an approved retention reduction, if the policy did not change since it was requested.</summary>
internal sealed class ReducePolicyRetentionOperation : ICriticalOperation
{
    public string Name => CriticalOperations.ReducePolicyRetention;

    public string AuditAction => AuditActions.PolicyReduceRetention;

    public async Task ExecuteAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct)
    {
        var policy = await db.BackupPolicies.FirstOrDefaultAsync(p => p.Id == request.ResourceId, ct) ?? throw PolicyService.Gone();
        var vault = await db.Vaults.AsNoTracking().FirstAsync(v => v.Id == policy.VaultId, ct);
        if (vault.IsImmutable())
            throw VaultImmutabilityRules.Refusal(vault, $"reducing the retention of policy {policy.Name}", "Reject this request; the policy keeps its retention.");
        if (policy.Version != request.ResourceVersion)
            throw new PortalConflictException($"Policy {policy.Name} changed after this request was made; reject it and ask again if the reduction is still wanted.");
        PolicyService.Apply(policy, PolicyDefinition.FromJson(request.Payload!), $"{request.RequestedByName} (approved by {request.DecidedByName})");
    }
}
