using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Data;
using Portal.Features.Identity;
using Portal.Features.Regions;

namespace Portal.Features.Vaults;

/// <summary>
/// Vaults: list, read, create, change and delete, with Azure's rules and the caller's roles enforced here.
/// Deleting a vault and turning soft delete off are critical: they become requests that a second
/// Backup.Contributor approves (<see cref="ApprovalService"/>).
/// </summary>
public sealed class VaultService(
    IDbContextFactory<PortalDbContext> dbFactory,
    RegionCatalog regions,
    ICurrentUser currentUser,
    AuditLog audit,
    ApprovalService approvals,
    IVaultContents contents,
    IEnumerable<IVaultCreationObserver> creationObservers,
    IEnumerable<IVaultManifest> manifests,
    IEnumerable<IVaultHolds> holds,
    TimeProvider clock,
    IEnumerable<IVaultStorageUsed>? storageUsed = null)
{
    public async Task<PagedResult<VaultSummary>> ListAsync(VaultQuery query, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("list vaults");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var vaults = db.Vaults.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
            vaults = vaults.Where(v => EF.Functions.ILike(v.Name, "%" + Like.Escape(query.Search.Trim()) + "%", "\\"));

        var total = await vaults.CountAsync(ct);
        var itemVaults = contents.ItemVaultIds(db);
        var ascending = query.Direction == SortDirection.Ascending;
        var ordered = query.SortBy switch
        {
            VaultSortColumn.Region => ascending ? vaults.OrderBy(v => v.Region) : vaults.OrderByDescending(v => v.Region),
            VaultSortColumn.Redundancy => ascending ? vaults.OrderBy(v => v.Redundancy) : vaults.OrderByDescending(v => v.Redundancy),
            VaultSortColumn.ItemCount => ascending ? vaults.OrderBy(v => itemVaults.Count(id => id == v.Id)) : vaults.OrderByDescending(v => itemVaults.Count(id => id == v.Id)),
            VaultSortColumn.CreatedAt => ascending ? vaults.OrderBy(v => v.CreatedAt) : vaults.OrderByDescending(v => v.CreatedAt),
            _ => ascending ? vaults.OrderBy(v => v.NormalizedName) : vaults.OrderByDescending(v => v.NormalizedName),
        };
        var pageSize = Math.Clamp(query.PageSize, 1, 200);
        var page = await ordered.ThenBy(v => v.NormalizedName)
            .Select(v => new VaultSummary(v.Id, v.Name, v.Region, v.Redundancy, itemVaults.Count(id => id == v.Id), null, v.CreatedAt))
            .Skip(Math.Max(0, query.PageIndex) * pageSize).Take(pageSize)
            .ToListAsync(ct);
        if (storageUsed?.FirstOrDefault() is { } storage && page.Count > 0)
        {
            var used = await storage.LatestAsync(db, [.. page.Select(v => v.Id)], ct);
            page = [.. page.Select(v => used.TryGetValue(v.Id, out var bytes) ? v with { StorageUsedBytes = bytes } : v)];
        }
        return new PagedResult<VaultSummary>(page, total);
    }

    public async Task<int> CountAsync(CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view vaults");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Vaults.CountAsync(ct);
    }

    /// <summary>The vault called <paramref name="name"/> (ignoring case), or null.</summary>
    public async Task<VaultDetails?> GetAsync(string name, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view vaults");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var normalized = VaultRules.Normalize(name);
        if (await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.NormalizedName == normalized, ct) is not { } v)
            return null;
        var items = await contents.CountAsync(db, v.Id, ct);
        return new VaultDetails(
            v.Id, v.Name, v.Region, regions.Find(v.Region)?.PairedRegion, v.Redundancy, v.SoftDeleteEnabled, v.SoftDeleteRetentionDays,
            items.Protected, items.ProtectionStopped, items.SoftDeleted,
            v.CreatedAt, v.CreatedBy, v.UpdatedAt, v.UpdatedBy, v.Version, v.Immutability);
    }

    public Task<VaultDetails> CreateAsync(CreateVaultRequest request, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultCreate, VaultResource(request.Name), async user =>
        {
            Access.Require(user, "create vaults", PortalRoles.Contributor);
            var name = request.Name?.Trim() ?? "";
            var errors = new Dictionary<string, string>();
            if (VaultRules.CheckName(name) is { } nameError)
                errors[nameof(request.Name)] = nameError;
            var region = regions.Find(request.Region);
            if (region is null)
                errors[nameof(request.Region)] = string.IsNullOrWhiteSpace(request.Region)
                    ? "Choose a region."
                    : $"Region \"{request.Region}\" is not configured. Choose one of: {string.Join(", ", regions.All.Select(r => r.Name))}.";
            else if (VaultRules.CheckRedundancy(request.Redundancy, region) is { } redundancyError)
                errors[nameof(request.Redundancy)] = redundancyError;
            if (errors.Count > 0)
                throw new PortalValidationException(errors);

            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var normalized = VaultRules.Normalize(name);
            if (await db.Vaults.AnyAsync(v => v.NormalizedName == normalized, ct))
                throw DuplicateName(name);

            var now = clock.GetUtcNow().UtcDateTime;
            var vault = new Vault
            {
                Id = Guid.CreateVersion7(),
                Name = name,
                NormalizedName = normalized,
                Region = region!.Name,
                Redundancy = request.Redundancy,
                CreatedAt = now,
                CreatedBy = user.DisplayName(),
                UpdatedAt = now,
                UpdatedBy = user.DisplayName(),
            };
            db.Vaults.Add(vault);
            foreach (var observer in creationObservers)
                observer.VaultCreating(db, vault, user.DisplayName()); // the default policy, as Azure makes one
            audit.Append(db, user, AuditActions.VaultCreate, VaultResource(name), $"{region.Name}, {request.Redundancy}");
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                throw DuplicateName(name); // created by someone else between the check and the insert
            }

            return (await GetAsync(name, ct))!;
        });

    /// <summary>
    /// Saves changed properties. Turning soft delete off is not applied here: it becomes a request for a
    /// second approver, and <see cref="VaultUpdateResult.ApprovalRequested"/> says so.
    /// </summary>
    public Task<VaultUpdateResult> UpdateAsync(UpdateVaultRequest request, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultUpdate, $"vault/{request.Id}", async user =>
        {
            Access.Require(user, "change vault properties", PortalRoles.Contributor);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.FirstOrDefaultAsync(v => v.Id == request.Id, ct) ?? throw Gone();
            if (vault.Version != request.Version)
                throw ChangedMeanwhile(vault);
            var removesSecondary = false;

            if (request.Redundancy != vault.Redundancy)
            {
                var region = regions.Find(vault.Region);
                if (region is not null && VaultRules.CheckRedundancy(request.Redundancy, region) is { } redundancyError)
                    throw new PortalValidationException(nameof(request.Redundancy), redundancyError);
                // Unlike Azure, redundancy may change after items are protected: LRS → GRS copies the existing data to the
                // pair with the next replication passes; GRS → LRS removes the pair's copy, so it must be confirmed.
                var items = await contents.ItemVaultIds(db).CountAsync(id => id == vault.Id, ct);
                removesSecondary = items > 0 && request.Redundancy == StorageRedundancy.LRS;
                if (removesSecondary && vault.IsImmutable())
                    throw VaultImmutabilityRules.Refusal(vault, $"changing to LRS (which deletes the copy in {region?.PairedRegion ?? "the paired region"})",
                        "Keep GRS; the change is possible once the vault holds no backup items.");
                if (removesSecondary && !string.Equals(request.ConfirmRemoveSecondary?.Trim(), vault.Name, StringComparison.Ordinal))
                    throw new PortalValidationException(nameof(request.ConfirmRemoveSecondary),
                        $"Changing to LRS removes this vault's copy in {region?.PairedRegion ?? "the paired region"}: cross-region restore will no " +
                        $"longer be possible. Type the vault name ({vault.Name}) to confirm; a second Backup.Contributor then approves it.");
            }

            if (VaultRules.CheckSoftDeleteDays(request.SoftDeleteRetentionDays) is { } daysError)
                throw new PortalValidationException(nameof(request.SoftDeleteRetentionDays), daysError);

            var changes = new List<string>();
            if (vault.Redundancy != request.Redundancy && !removesSecondary)
                changes.Add($"redundancy {vault.Redundancy} → {request.Redundancy}" + (request.Redundancy == StorageRedundancy.GRS
                    ? " (existing backup data is copied to the paired region by the next replication passes)"
                    : " (the vault holds no backup items)"));
            if (vault.SoftDeleteRetentionDays != request.SoftDeleteRetentionDays)
                changes.Add($"soft delete days {vault.SoftDeleteRetentionDays} → {request.SoftDeleteRetentionDays}");
            if (!vault.SoftDeleteEnabled && request.SoftDeleteEnabled)
                changes.Add("soft delete turned on");
            if (!removesSecondary)
                vault.Redundancy = request.Redundancy;
            vault.SoftDeleteRetentionDays = request.SoftDeleteRetentionDays;
            vault.SoftDeleteEnabled |= request.SoftDeleteEnabled;

            ApprovalRequest? approval = null;
            if (vault.SoftDeleteEnabled && !request.SoftDeleteEnabled)
            {
                approval = await approvals.AddRequestAsync(db, user, CriticalOperations.DisableSoftDelete, vault.Id, VaultResource(vault.Name),
                    $"Turn soft delete off for vault {vault.Name}: deleted backup data would be purged at once.", ct);
                audit.Append(db, user, AuditActions.VaultDisableSoftDeleteRequest, VaultResource(vault.Name), approval.Summary);
            }

            if (removesSecondary)
            {
                // Removing the paired region's copy of backup data is critical on every vault (as Azure's multi-user
                // authorization protects it): a second Backup.Contributor approves it.
                approval = await approvals.AddRequestAsync(db, user, CriticalOperations.RemoveSecondaryCopy, vault.Id, VaultResource(vault.Name),
                    $"Change vault {vault.Name} from GRS to LRS: its copy in {regions.Find(vault.Region)?.PairedRegion ?? "the paired region"} is deleted " +
                    "by the next replication pass and cross-region restore is no longer possible.", ct);
                audit.Append(db, user, AuditActions.VaultRemoveSecondaryRequest, VaultResource(vault.Name), approval.Summary);
            }

            if (changes.Count > 0)
            {
                vault.UpdatedAt = clock.GetUtcNow().UtcDateTime;
                vault.UpdatedBy = user.DisplayName();
                audit.Append(db, user, AuditActions.VaultUpdate, VaultResource(vault.Name), string.Join("; ", changes));
            }

            await SaveOrReportConflictAsync(db, vault, ct);
            await manifests.RefreshAsync(vault.Id, ct);
            return new VaultUpdateResult((await GetAsync(vault.Name, ct))!, approval is not null);
        });

    /// <summary>
    /// Asks for the deletion of an empty vault; <paramref name="typedName"/> must repeat its name exactly.
    /// The vault is deleted when another Backup.Contributor approves, if it is still empty then.
    /// </summary>
    public Task RequestDeleteAsync(Guid id, uint version, string typedName, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultDeleteRequest, $"vault/{id}", async user =>
        {
            Access.Require(user, "delete vaults", PortalRoles.Contributor);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.FirstOrDefaultAsync(v => v.Id == id, ct) ?? throw Gone();
            if (!string.Equals(typedName?.Trim(), vault.Name, StringComparison.Ordinal))
                throw new PortalValidationException("ConfirmName", $"Type the vault's name, {vault.Name}, exactly to confirm.");
            if (vault.Version != version)
                throw ChangedMeanwhile(vault);
            await EnsureDeletableAsync(db, vault, ct);

            var request = await approvals.AddRequestAsync(db, user, CriticalOperations.DeleteVault, vault.Id, VaultResource(vault.Name),
                $"Delete vault {vault.Name} ({vault.Region}, {vault.Redundancy}).", ct);
            audit.Append(db, user, AuditActions.VaultDeleteRequest, VaultResource(vault.Name), request.Summary);
            await db.SaveChangesAsync(ct);
        });

    /// <summary>
    /// Why the vault cannot be deleted now (it holds items or soft-deleted data, or is immutable with items), or null: the
    /// page says it before anyone types the vault's name. The request itself checks again.
    /// </summary>
    public async Task<string?> DeletionRefusalAsync(Guid id, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view vaults");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, ct) ?? throw Gone();
        try
        {
            await EnsureDeletableAsync(db, vault, ct);
            return null;
        }
        catch (PortalConflictException e)
        {
            return e.Message;
        }
    }

    private async Task EnsureDeletableAsync(PortalDbContext db, Vault vault, CancellationToken ct)
    {
        if (vault.IsImmutable() && await contents.ItemVaultIds(db).AnyAsync(v => v == vault.Id, ct))
            throw VaultImmutabilityRules.Refusal(vault, "deleting it", "It can be deleted once every backup item's recovery points have expired and it is empty.");
        await contents.EnsureEmptyAsync(db, vault, ct);
    }

    /// <summary>What the vault holds now (for the confirmation of its deletion), or null when it no longer exists.</summary>
    public async Task<VaultHoldings?> HoldingsAsync(Guid id, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view vaults");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, ct) is not { } vault)
            return null;
        var items = await contents.CountAsync(db, id, ct);
        var points = await contents.RecoveryPointCountAsync(db, id, ct);
        var machines = await db.Machines.AsNoTracking().Where(m => m.VaultId == id)
            .GroupBy(m => m.RevokedAt != null).Select(g => new { Revoked = g.Key, Count = g.Count() }).ToListAsync(ct);
        var storage = await db.StorageUsage.AsNoTracking().Where(s => s.VaultId == id && s.Region == vault.Region)
            .OrderByDescending(s => s.Day).FirstOrDefaultAsync(ct);
        return new VaultHoldings(vault.Name, items, points,
            machines.Where(m => !m.Revoked).Sum(m => m.Count), machines.Where(m => m.Revoked).Sum(m => m.Count), storage?.Bytes, storage?.MeasuredAt);
    }

    /// <summary>
    /// Makes the vault immutable (<see cref="VaultImmutability.Enabled"/>), turns an unlocked immutability off, or asks to
    /// lock it (<see cref="VaultImmutability.Locked"/>: irreversible, so a second Backup.Contributor approves it and
    /// <paramref name="typedName"/> must repeat the vault's name). A locked vault stays locked.
    /// </summary>
    public Task<VaultUpdateResult> SetImmutabilityAsync(Guid id, uint version, VaultImmutability target, string? typedName = null, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultSetImmutability, $"vault/{id}", async user =>
        {
            Access.Require(user, "change a vault's immutability", PortalRoles.Contributor);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.FirstOrDefaultAsync(v => v.Id == id, ct) ?? throw Gone();
            if (vault.Version != version)
                throw ChangedMeanwhile(vault);
            if (vault.Immutability == VaultImmutability.Locked)
                throw new PortalConflictException($"Vault {vault.Name}'s immutability is locked: it cannot be changed or turned off (as in Azure, locking is irreversible).");
            if (vault.Immutability == target)
                throw new PortalConflictException($"Vault {vault.Name} is already {(target == VaultImmutability.Disabled ? "not immutable" : "immutable")}.");

            ApprovalRequest? approval = null;
            HoldReport? note = null;
            if (target == VaultImmutability.Locked)
            {
                if (vault.Immutability != VaultImmutability.Enabled)
                    throw new PortalConflictException($"Make vault {vault.Name} immutable first; lock it once you have checked that its policies keep what you need.");
                if (!string.Equals(typedName?.Trim(), vault.Name, StringComparison.Ordinal))
                    throw new PortalValidationException("ConfirmName", $"Locking cannot be undone. Type the vault's name, {vault.Name}, exactly to confirm.");
                approval = await approvals.AddRequestAsync(db, user, CriticalOperations.LockImmutability, vault.Id, VaultResource(vault.Name),
                    $"Lock the immutability of vault {vault.Name}: irreversible; no one can then remove a recovery point before its retention ends, " +
                    "reduce a policy's retention, delete backup data or remove the paired region's copy.", ct);
                audit.Append(db, user, AuditActions.VaultLockImmutabilityRequest, VaultResource(vault.Name), approval.Summary);
                await db.SaveChangesAsync(ct);
            }
            else
            {
                var before = vault.Immutability;
                vault.Immutability = target;
                vault.UpdatedAt = clock.GetUtcNow().UtcDateTime;
                vault.UpdatedBy = user.DisplayName();
                audit.Append(db, user, AuditActions.VaultSetImmutability, VaultResource(vault.Name), $"immutability {before} → {target}");
                await SaveOrReportConflictAsync(db, vault, ct);
                // From this moment the services refuse early removals; the points taken before are held in storage now, so
                // that the engine refuses them too (not only at the next retention run).
                foreach (var h in holds)
                    note = target == VaultImmutability.Disabled ? await h.ReleaseAsync(vault.Id, ct) : await h.HoldAsync(vault.Id, ct);
                await manifests.RefreshAsync(vault.Id, ct);
            }

            return new VaultUpdateResult((await GetAsync(vault.Name, ct))!, approval is not null, note?.Words, note?.Complete == false);
        });

    internal static string VaultResource(string? name) => $"vault/{name}";

    internal static PortalNotFoundException Gone() => new("This vault no longer exists: someone deleted it.");

    private Task SaveOrReportConflictAsync(PortalDbContext db, Vault vault, CancellationToken ct) =>
        db.SaveOrExplainAsync(async () =>
        {
            await using var fresh = await dbFactory.CreateDbContextAsync(ct);
            var current = await fresh.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vault.Id, ct);
            return current is null ? Gone() : ChangedMeanwhile(current);
        }, ct);

    private static PortalConflictException ChangedMeanwhile(Vault current) =>
        new($"Vault {current.Name} was changed by {current.UpdatedBy} at {current.UpdatedAt:yyyy-MM-dd HH:mm:ss} UTC after you opened it. " +
            "Nothing was saved: reload to see the current settings, then make your change again.");

    private static PortalValidationException DuplicateName(string name) =>
        new(nameof(CreateVaultRequest.Name), $"A vault named \"{name}\" already exists (names are unique ignoring case). Choose another name.");
}

/// <summary>The vault after an update, and whether part of the change waits for a second approver.</summary>
/// <param name="Note">What else the change did, in words (the recovery points it held in storage), or null.</param>
/// <param name="Incomplete">Part of it is left for later (a repository that could not be opened now): the note says which.</param>
public sealed record VaultUpdateResult(VaultDetails Vault, bool ApprovalRequested, string? Note = null, bool Incomplete = false);
