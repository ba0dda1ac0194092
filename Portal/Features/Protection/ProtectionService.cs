using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Features.Approvals;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Policies;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Features.Protection;

/// <summary>
/// Backup items: configure protection, list, read, back up now, stop protection (keep or delete data), resume,
/// undelete. Roles are enforced here: Backup.Contributor and Backup.Operator protect and back up; deleting backup
/// data needs a Backup.Contributor and a second one's approval.
/// </summary>
public sealed class ProtectionService(
    IDbContextFactory<PortalDbContext> dbFactory,
    ICurrentUser currentUser,
    AuditLog audit,
    ApprovalService approvals,
    VaultKeys keys,
    ProtectionScheduler scheduler,
    JobPipeline pipeline,
    BackupJob backups,
    MachineBackupJob machineBackups,
    IMachines machines,
    CheckJob checks,
    RegionCatalog regions,
    IDatabaseWorkload databases,
    IOptions<ProtectionOptions> options,
    IEnumerable<IVaultManifest> manifests,
    TimeProvider clock)
{
    private static readonly string[] Protectors = [PortalRoles.Contributor, PortalRoles.Operator];

    /// <summary>Whether configuring protection in <paramref name="vaultId"/> must ask for the vault passphrase.</summary>
    public async Task<bool> NeedsPassphraseAsync(Guid vaultId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view backup items");
        return !await keys.HasKeyAsync(vaultId, ct);
    }

    /// <summary>The folders under which items may be protected (Protection:SourceRoots).</summary>
    public IReadOnlyList<string> SourceRoots => options.Value.SourceRoots;

    public Task<ItemDetails> ConfigureAsync(ConfigureProtectionRequest request, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemProtect, $"item/{request.Name}", async user =>
        {
            Access.Require(user, "configure protection", Protectors);
            if (HasScripts(request.Scripts))
                Access.Require(user, "set pre- and post-backup scripts (they run commands on the portal host)", PortalRoles.Contributor);
            var errors = new Dictionary<string, string>();
            var name = request.Name?.Trim() ?? "";
            if (ProtectionRules.CheckName(name) is { } nameError) errors[nameof(request.Name)] = nameError;
            string source;
            MachineInfo? machine = null;
            if (request.MachineId is { } machineId)
            {
                machine = await machines.FindAsync(machineId, ct);
                if (machine is null || machine.VaultId != request.VaultId)
                    errors[nameof(request.MachineId)] = "Choose a machine registered to this vault: the one chosen is not.";
                else if (machine.Revoked)
                    errors[nameof(request.MachineId)] = $"Machine {machine.Name} was revoked: register it again to protect its folders.";
                if (request.Database is not null)
                    errors[nameof(request.Database)] = "Databases are protected from the portal host; on a machine, protect folders.";
                if (ProtectionRules.CheckMachinePath(request.SourcePath, machine?.Name ?? "the machine", out source) is { } pathError)
                    errors[nameof(request.SourcePath)] = pathError;
                ItemScripts.Check(request.Scripts, errors);
            }
            else if (request.Database is { } database)
            {
                source = databases.Validate(database, request.Scripts, errors);
            }
            else
            {
                if (ProtectionRules.CheckSourcePath(request.SourcePath, options.Value.SourceRoots, out source) is { } pathError)
                    errors[nameof(request.SourcePath)] = pathError;
                ItemScripts.Check(request.Scripts, errors);
            }

            if (ProtectionRules.CheckPatterns(request.Include) is { } includeError) errors[nameof(request.Include)] = includeError;
            if (ProtectionRules.CheckPatterns(request.Exclude) is { } excludeError) errors[nameof(request.Exclude)] = excludeError;

            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == request.VaultId, ct)
                        ?? throw new PortalValidationException(nameof(request.VaultId), "Choose a vault: the one chosen no longer exists.");
            var policy = await db.BackupPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.Id == request.PolicyId && p.VaultId == vault.Id, ct);
            if (policy is null) errors[nameof(request.PolicyId)] = $"Choose a policy of vault {vault.Name}.";
            if (await db.BackupItems.AnyAsync(i => i.VaultId == vault.Id && i.Name == name, ct))
                errors[nameof(request.Name)] = $"Vault {vault.Name} already has an item named \"{name}\". Choose another name.";
            var needsPassphrase = machine is null && !await keys.HasKeyAsync(vault.Id, ct); // a machine encrypts with its own key
            if (needsPassphrase)
            {
                if (ProtectionRules.CheckPassphrase(request.Passphrase) is { } passError)
                    errors[nameof(request.Passphrase)] = passError;
                else if (request.Passphrase != request.ConfirmPassphrase)
                    errors[nameof(request.ConfirmPassphrase)] = "The two passphrases differ: type the same passphrase twice.";
            }

            if (errors.Count > 0)
                throw new PortalValidationException(errors);
            if (request.Database is { } reach)
                await databases.CheckReachableAsync(reach, ct); // the credentials work, before anything is saved

            if (needsPassphrase)
            {
                await keys.UnlockAsync(vault, request.Passphrase!, user.DisplayName(), ct);
                audit.Append(db, user, AuditActions.VaultUnlock, VaultService.VaultResource(vault.Name), "vault passphrase set; key sealed on the portal host");
            }

            var now = clock.GetUtcNow().UtcDateTime;
            var item = new BackupItem
            {
                Id = Guid.CreateVersion7(), VaultId = vault.Id, Name = name, State = ProtectionState.Protected,
                Kind = request.Database is null ? BackupItemKinds.FilesAndFolders : BackupItemKinds.PostgreSql,
                PolicyId = policy!.Id, SourcePath = source, Include = Clean(request.Include), Exclude = Clean(request.Exclude), MachineId = machine?.Id,
                CreatedAt = now, CreatedBy = user.DisplayName(),
            };
            if (request.Database is { } d)
                (item.DatabaseHost, item.DatabasePort, item.DatabaseName, item.DatabaseUser, item.SealedDatabasePassword) =
                    (d.Host.Trim(), d.Port ?? 5432, d.Database.Trim(), d.User.Trim(), string.IsNullOrEmpty(d.Password) ? null : databases.SealPassword(d.Password));
            else if (HasScripts(request.Scripts))
                (item.PreScript, item.PostScript, item.ScriptTimeoutSeconds) =
                    (Blank(request.Scripts!.PreScript), Blank(request.Scripts.PostScript), request.Scripts.TimeoutSeconds);
            db.BackupItems.Add(item);
            audit.Append(db, user, AuditActions.ItemProtect, Resource(vault.Name, name), $"{source}{(machine is null ? "" : $" on machine {machine.Name}")} with policy {policy.Name}" +
                (item.PreScript is null ? "" : $"; pre-backup script: {item.PreScript}") + (item.PostScript is null ? "" : $"; post-backup script: {item.PostScript}"));
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                throw new PortalValidationException(nameof(request.Name), $"Vault {vault.Name} already has an item named \"{name}\". Choose another name.");
            }

            await scheduler.SyncItemAsync(item.Id, ct);
            await manifests.RefreshAsync(item.VaultId, ct);
            return (await GetAsync(item.Id, ct))!;
        });

    /// <summary>Changes an item's policy and patterns (its folder and scripts as they are).</summary>
    public Task<ItemDetails> UpdateAsync(Guid itemId, uint version, Guid policyId, IReadOnlyList<string>? include, IReadOnlyList<string>? exclude, CancellationToken ct = default) =>
        EditAsync(itemId, version, new EditItemRequest(policyId, null, include, exclude), ct);

    /// <summary>
    /// Changes what a protected item backs up and when: Backup.Contributor or Backup.Operator; changing the scripts needs a
    /// Backup.Contributor (they run commands). The folder stays on the item's host or machine; recovery points already
    /// made keep what they hold. Audited with what changed.
    /// </summary>
    public Task<ItemDetails> EditAsync(Guid itemId, uint version, EditItemRequest request, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemUpdate, $"item/{itemId}", async user =>
        {
            Access.Require(user, "change backup items", Protectors);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await LoadAsync(db, itemId, ct);
            if (item.State == ProtectionState.SoftDeleted)
                throw new PortalConflictException($"The backup data of {item.Name} is deleted: undelete it before changing the item.");
            var files = item.Kind == BackupItemKinds.FilesAndFolders;
            var scripts = request.Scripts is { } s && files ? (Blank(s.PreScript), Blank(s.PostScript), s.TimeoutSeconds) : (item.PreScript, item.PostScript, item.ScriptTimeoutSeconds);
            if (scripts != (item.PreScript, item.PostScript, item.ScriptTimeoutSeconds))
                Access.Require(user, "change pre- and post-backup scripts (they run commands on the backed-up host)", PortalRoles.Contributor);

            var errors = new Dictionary<string, string>();
            var source = item.SourcePath;
            if (files && request.SourcePath is { } path && path.Trim() != item.SourcePath)
            {
                var pathError = item.MachineId is null
                    ? ProtectionRules.CheckSourcePath(path, options.Value.SourceRoots, out source)
                    : ProtectionRules.CheckMachinePath(path, (await machines.FindAsync(item.MachineId.Value, ct))?.Name ?? "the machine", out source);
                if (pathError is not null) errors[nameof(request.SourcePath)] = pathError;
            }
            else if (!files && request.SourcePath is { } other && other.Trim().Length > 0 && other.Trim() != item.SourcePath)
            {
                errors[nameof(request.SourcePath)] = "A database item has no folder: change its server or database in Database settings.";
            }

            if (files && ProtectionRules.CheckPatterns(request.Include) is { } includeError) errors[nameof(request.Include)] = includeError;
            if (files && ProtectionRules.CheckPatterns(request.Exclude) is { } excludeError) errors[nameof(request.Exclude)] = excludeError;
            if (files) ItemScripts.Check(request.Scripts, errors);
            var policy = await db.BackupPolicies.AsNoTracking().Where(p => p.Id == request.PolicyId && p.VaultId == item.VaultId)
                .Select(p => new { p.Id, p.Name, p.Definition }).FirstOrDefaultAsync(ct);
            if (policy is null)
                errors[nameof(request.PolicyId)] = $"Choose a policy of vault {item.Vault!.Name}.";
            else if (item.Vault!.IsImmutable() && policy.Id != item.PolicyId
                     && await db.BackupPolicies.AsNoTracking().Where(p => p.Id == item.PolicyId).Select(p => p.Definition).FirstOrDefaultAsync(ct) is { } current
                     && PolicyRules.ReducesRetention(PolicyDefinition.FromJson(current), PolicyDefinition.FromJson(policy.Definition), clock.GetUtcNow()))
                throw VaultImmutabilityRules.Refusal(item.Vault!, $"moving {item.Name} to policy {policy.Name}, which keeps its recovery points for less time,",
                    "Keep the item's policy, or choose one that keeps its points at least as long.");
            if (errors.Count > 0)
                throw new PortalValidationException(errors);
            if (item.Version != version)
                throw ChangedMeanwhile(item);

            var include = files ? Clean(request.Include) : item.Include;
            var exclude = files ? Clean(request.Exclude) : item.Exclude;
            var changes = new List<string>();
            if (item.PolicyId != policy!.Id)
                changes.Add($"policy: {await db.BackupPolicies.Where(p => p.Id == item.PolicyId).Select(p => p.Name).FirstOrDefaultAsync(ct) ?? "none"} → {policy.Name}");
            if (source != item.SourcePath) changes.Add($"folder: {item.SourcePath} → {source}");
            if (!include.SequenceEqual(item.Include)) changes.Add($"include: {Patterns(item.Include)} → {Patterns(include)}");
            if (!exclude.SequenceEqual(item.Exclude)) changes.Add($"exclude: {Patterns(item.Exclude)} → {Patterns(exclude)}");
            if (scripts.Item1 != item.PreScript) changes.Add($"pre-backup script: {item.PreScript ?? "none"} → {scripts.Item1 ?? "none"}");
            if (scripts.Item2 != item.PostScript) changes.Add($"post-backup script: {item.PostScript ?? "none"} → {scripts.Item2 ?? "none"}");
            if (scripts.Item3 != item.ScriptTimeoutSeconds) changes.Add($"script timeout: {Seconds(item.ScriptTimeoutSeconds)} → {Seconds(scripts.Item3)}");
            if (changes.Count == 0)
                return (await GetAsync(item.Id, ct))!; // nothing to save, nothing to audit

            (item.PolicyId, item.SourcePath, item.Include, item.Exclude) = (policy.Id, source, include, exclude);
            (item.PreScript, item.PostScript, item.ScriptTimeoutSeconds) = scripts;
            audit.Append(db, user, AuditActions.ItemUpdate, Resource(item.Vault!.Name, item.Name), string.Join("; ", changes));
            await SaveAsync(db, item, ct);
            await scheduler.SyncItemAsync(item.Id, ct);
            await manifests.RefreshAsync(item.VaultId, ct);
            return (await GetAsync(item.Id, ct))!;

            static string Patterns(IReadOnlyList<string> patterns) => patterns.Count == 0 ? "none" : string.Join(", ", patterns);
            static string Seconds(int? seconds) => seconds is { } n ? $"{n} s" : "default";
        });

    /// <summary>
    /// The other items on the same host (<paramref name="machineId"/> null: the portal host) whose folder is
    /// <paramref name="path"/>, inside it or around it: protecting both backs the same files up twice, as Azure warns.
    /// Items whose data is deleted are left out; so is <paramref name="exceptItemId"/> (the item being edited).
    /// </summary>
    public async Task<IReadOnlyList<OverlappingItem>> OverlappingAsync(Guid? machineId, string? path, Guid? exceptItemId = null, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view backup items");
        if (string.IsNullOrWhiteSpace(path) || !path.Trim().StartsWith('/') || path.Contains('\0'))
            return [];
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path.Trim()));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var candidates = await db.BackupItems.AsNoTracking()
            .Where(i => i.Kind == BackupItemKinds.FilesAndFolders && i.MachineId == machineId && i.State != ProtectionState.SoftDeleted && i.Id != exceptItemId)
            .Select(i => new { i.Id, i.Name, Vault = i.Vault!.Name, i.SourcePath }).ToListAsync(ct);
        return [.. candidates.Where(c => ProtectionRules.Overlap(c.SourcePath, full))
            .Select(c => OverlappingItem.Of(c.Id, c.Name, c.Vault, c.SourcePath, full)).OrderBy(c => c.SourcePath, StringComparer.Ordinal)];
    }

    public async Task<PagedResult<ItemSummary>> ListAsync(ItemQuery query, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view backup items");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var items = db.BackupItems.AsNoTracking();
        if (query.VaultId is { } vaultId) items = items.Where(i => i.VaultId == vaultId);
        if (query.State is { } state) items = items.Where(i => i.State == state);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = "%" + Like.Escape(query.Search.Trim()) + "%";
            items = items.Where(i => EF.Functions.ILike(i.Name, pattern, "\\") || EF.Functions.ILike(i.SourcePath, pattern, "\\"));
        }

        if (query.Health is { } health)
        {
            // Health depends on the clock and each policy, so it is worked out for the filtered items, then paged by id.
            var matching = (await ItemHealthIndex.LoadAsync(db, items, clock.GetUtcNow().UtcDateTime, ct))
                .Where(h => h.Health == health).Select(h => h.Id).ToList();
            items = items.Where(i => matching.Contains(i.Id));
        }

        var total = await items.CountAsync(ct);
        var size = Math.Clamp(query.PageSize, 1, 200);
        var rows = await items.OrderBy(i => i.Name).ThenBy(i => i.Id)
            .Skip(Math.Max(0, query.PageIndex) * size).Take(size)
            .Select(i => new Row(i, i.Vault!.Name, i.Policy!.Name, i.Policy.Definition))
            .ToListAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var definitions = new Dictionary<string, PolicyDefinition>();
        var names = await MachineNamesAsync(rows.Select(r => r.Item.MachineId), ct);
        return new PagedResult<ItemSummary>([.. rows.Select(r => Summary(r, definitions, now, names))], total);
    }

    public async Task<ItemDetails?> GetAsync(Guid itemId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view backup items");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.BackupItems.AsNoTracking().Where(i => i.Id == itemId)
            .Select(i => new Row(i, i.Vault!.Name, i.Policy!.Name, i.Policy.Definition))
            .FirstOrDefaultAsync(ct);
        if (row is null)
            return null;
        var vault = await db.Vaults.AsNoTracking().FirstAsync(v => v.Id == row.Item.VaultId, ct);
        var points = await db.RecoveryPoints.AsNoTracking().Where(p => p.ItemId == itemId).OrderByDescending(p => p.CreatedAt).ToListAsync(ct);
        var recentJobs = await db.Jobs.AsNoTracking().Where(j => j.ItemId == itemId).OrderByDescending(j => j.QueuedAt).Take(10).ToListAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var summary = Summary(row, new Dictionary<string, PolicyDefinition>(), now, await MachineNamesAsync([row.Item.MachineId], ct));
        IReadOnlyList<string> pointRegions = vault.Redundancy == Vaults.StorageRedundancy.GRS && regions.Find(vault.Region)?.PairedRegion is { } pair
            ? [vault.Region, pair]
            : [vault.Region];
        var item = row.Item;
        return new ItemDetails(
            summary, item.PolicyId, row.PolicyDefinition is null ? null : PolicyService.Describe(PolicyDefinition.FromJson(row.PolicyDefinition)),
            item.Include, item.Exclude, item.CreatedAt, item.CreatedBy, item.ProtectionStoppedAt, item.SoftDeletedAt,
            PurgeAfter(item, vault),
            [.. points.Select(p => new RecoveryPointSummary(p.Id, p.SnapshotId, p.CreatedAt, p.Type, p.Consistency, p.Files, p.Bytes, p.BytesAdded,
                p.ExpiresAt, p.RetainUntil, pointRegions))],
            recentJobs, item.Version,
            new ItemWorkload(item.Kind == BackupItemKinds.PostgreSql ? $"{item.DatabaseName} on {item.DatabaseHost}:{item.DatabasePort} as {item.DatabaseUser}" : null,
                item.PreScript, item.PostScript, item.ScriptTimeoutSeconds, item.DatabaseHost, item.DatabasePort, item.DatabaseName, item.DatabaseUser))
        {
            Rpo = item.State == ProtectionState.Protected && row.PolicyDefinition is { } json ? Rpo(PolicyDefinition.FromJson(json)) : null,
        };

        ItemRpo Rpo(PolicyDefinition policy)
        {
            var target = PolicySchedules.RpoTarget(policy.Schedule);
            if (item.LatestRecoveryPointAt is null) // nothing to measure: say so rather than "within target 100 %"
                return new ItemRpo(now - item.CreatedAt, target, null, HasPoint: false, ProtectionRules.FirstBackupDue(policy, item.CreatedAt));
            return new ItemRpo(now - item.LatestRecoveryPointAt.Value, target,
                RpoCompliance.Over(points.Select(p => p.CreatedAt), item.CreatedAt, target + PolicySchedules.RpoGrace(policy.Schedule), now));
        }
    }

    /// <summary>Starts a backup now, kept until <paramref name="retainUntilUtc"/> (Azure's default: 30 days). Returns the job.</summary>
    public Task<Job> BackUpNowAsync(Guid itemId, DateTime retainUntilUtc, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemBackupNow, $"item/{itemId}", async user =>
        {
            Access.Require(user, "back up items", Protectors);
            var now = clock.GetUtcNow().UtcDateTime;
            if (retainUntilUtc.Date <= now.Date)
                throw new PortalValidationException("RetainUntil", "Keep the recovery point until a later date: tomorrow or after.");
            if (retainUntilUtc > now.AddYears(99))
                throw new PortalValidationException("RetainUntil", "A recovery point can be kept at most 99 years.");
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await LoadAsync(db, itemId, ct);
            return await QueueBackupAsync(db, user, item, new BackupInput(item.Id, RecoveryPointType.OnDemand, retainUntilUtc),
                AuditActions.ItemBackupNow, $"retain until {retainUntilUtc:yyyy-MM-dd}", ct);
        });

    /// <summary>
    /// Runs a failed backup again: the same item and the same kind of recovery point (on-demand with its retain-until
    /// date, or scheduled), as a new job. Only failed backups of an item that is still protected are retried.
    /// </summary>
    public Task<Job> RetryAsync(Guid jobId, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemBackupRetry, $"job/{jobId}", async user =>
        {
            Access.Require(user, "retry backups", Protectors);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var failed = await JobRetry.FailedAsync(db, jobId, j => j is { Kind: JobKind.Backup, ItemId: not null }, "backup", ct);
            var item = await LoadAsync(db, failed.ItemId!.Value, ct);
            var input = RetryInput(failed, item.Id);
            if (input.RetainUntil is { } until && until.Date <= clock.GetUtcNow().UtcDateTime.Date)
                throw new PortalConflictException(
                    $"The failed backup was to be kept until {until:yyyy-MM-dd}, which has passed: use Back up now with a later date instead.");
            return await QueueBackupAsync(db, user, item, input, AuditActions.ItemBackupRetry, $"retry of job {failed.Id}", ct);
        });

    /// <summary>What the failed backup was asked to make (a job whose stored input cannot be read is retried as on demand for 30 days).</summary>
    private BackupInput RetryInput(Job failed, Guid itemId)
    {
        try
        {
            if (failed.Input is { } stored && JobHandler<BackupInput>.Deserialize(stored) is { } input && input.ItemId == itemId)
                return input;
        }
        catch (System.Text.Json.JsonException)
        {
            // an input written by an older portal: fall through to Azure's default for an on-demand backup
        }

        return new BackupInput(itemId, RecoveryPointType.OnDemand, clock.GetUtcNow().UtcDateTime.Date.AddDays(30));
    }

    /// <summary>Queues a backup of a protected item with its audit row, in one transaction (one backup of an item at a time).</summary>
    private async Task<Job> QueueBackupAsync(PortalDbContext db, System.Security.Claims.ClaimsPrincipal user, BackupItem item, BackupInput input, string action, string auditDetails,
        CancellationToken ct)
    {
        if (item.State != ProtectionState.Protected)
            throw new PortalConflictException($"{item.Name} is not protected ({Describe(item.State)}). Resume protection to back it up.");
        if (await db.Jobs.AnyAsync(j => j.ItemId == item.Id && j.Kind == JobKind.Backup
                                       && (j.Status == JobStatus.Queued || j.Status == JobStatus.InProgress || j.Status == JobStatus.Cancelling), ct))
            throw new PortalConflictException($"A backup of {item.Name} is already queued or running. Watch it on the Jobs page.");
        audit.Append(db, user, action, Resource(item.Vault!.Name, item.Name), auditDetails);
        var job = pipeline.Enqueue(db, item.MachineId is null ? backups : machineBackups, input,
            new JobTarget(item.VaultId, item.Vault.Name, item.Id, item.Name, item.MachineId), user.DisplayName());
        await db.SaveChangesAsync(ct); // the job and its audit row together: a queued job always runs
        await pipeline.QueuedAsync(job, ct);
        return job;
    }

    /// <summary>
    /// Unlocks a vault on this portal with its passphrase: for a new portal host (another Data Protection key ring)
    /// or after the vault's data was made elsewhere. A wrong passphrase is a validation error; nothing else changes.
    /// </summary>
    public Task UnlockVaultAsync(Guid vaultId, string passphrase, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultUnlock, $"vault/{vaultId}", async user =>
        {
            Access.Require(user, "unlock vaults", Protectors);
            if (string.IsNullOrEmpty(passphrase))
                throw new PortalValidationException("Passphrase", "Type the vault's passphrase.");
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) ?? throw VaultService.Gone();
            await keys.UnlockAsync(vault, passphrase, user.DisplayName(), ct);
            audit.Append(db, user, AuditActions.VaultUnlock, VaultService.VaultResource(vault.Name), "key sealed on this portal host");
            await db.SaveChangesAsync(ct);
            await manifests.RefreshAsync(vault.Id, ct);
        });

    /// <summary>Starts an integrity check of the vault's backup data (with <paramref name="readData"/>, every blob is read and verified).</summary>
    public Task<Job> CheckVaultAsync(Guid vaultId, bool readData, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultCheck, $"vault/{vaultId}", async user =>
        {
            Access.Require(user, "check vaults", Protectors);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) ?? throw VaultService.Gone();
            if (!await keys.HasKeyAsync(vaultId, ct))
                throw new PortalConflictException($"Vault {vault.Name} holds no backup data yet: protect an item in it first.");
            if (await db.Jobs.AnyAsync(j => j.VaultId == vaultId && j.Kind == JobKind.Check
                                           && (j.Status == JobStatus.Queued || j.Status == JobStatus.InProgress || j.Status == JobStatus.Cancelling), ct))
                throw new PortalConflictException($"A check of vault {vault.Name} is already queued or running.");
            audit.Append(db, user, AuditActions.VaultCheck, VaultService.VaultResource(vault.Name), readData ? "structure and all data" : "structure");
            var job = pipeline.Enqueue(db, checks, new CheckInput(vault.Id, readData),
                new JobTarget(vault.Id, vault.Name, null, readData ? "check (read all data)" : "check"), user.DisplayName());
            await db.SaveChangesAsync(ct); // the job and its audit row together
            await pipeline.QueuedAsync(job, ct);
            return job;
        });

    /// <summary>Stops protection and keeps the backup data (points stay until they expire).</summary>
    public Task StopProtectionAsync(Guid itemId, uint version, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemStopProtection, $"item/{itemId}", async user =>
        {
            Access.Require(user, "stop protection", Protectors);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await LoadAsync(db, itemId, ct);
            if (item.Version != version) throw ChangedMeanwhile(item);
            if (item.State != ProtectionState.Protected)
                throw new PortalConflictException($"{item.Name} is not protected ({Describe(item.State)}).");
            item.State = ProtectionState.ProtectionStopped;
            item.ProtectionStoppedAt = clock.GetUtcNow().UtcDateTime;
            audit.Append(db, user, AuditActions.ItemStopProtection, Resource(item.Vault!.Name, item.Name), "backup data kept");
            await SaveAsync(db, item, ct);
            await scheduler.SyncItemAsync(item.Id, ct);
            await manifests.RefreshAsync(item.VaultId, ct);
        });

    /// <summary>
    /// Asks to stop protection and delete the backup data; <paramref name="typedName"/> must repeat the item's name.
    /// A second Backup.Contributor approves; the data is then soft-deleted for the vault's soft-delete days.
    /// </summary>
    public Task RequestStopAndDeleteAsync(Guid itemId, uint version, string typedName, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemStopProtectionDeleteRequest, $"item/{itemId}", async user =>
        {
            Access.Require(user, "delete backup data", PortalRoles.Contributor);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await LoadAsync(db, itemId, ct);
            if (!string.Equals(typedName?.Trim(), item.Name, StringComparison.Ordinal))
                throw new PortalValidationException("ConfirmName", $"Type the item's name, {item.Name}, exactly to confirm.");
            if (item.Version != version) throw ChangedMeanwhile(item);
            if (item.State == ProtectionState.SoftDeleted)
                throw new PortalConflictException($"The backup data of {item.Name} is already deleted (soft delete).");
            var vault = item.Vault!;
            var points = await db.RecoveryPoints.CountAsync(p => p.ItemId == itemId, ct);
            if (vault.IsImmutable() && points > 0)
                throw VaultImmutabilityRules.Refusal(vault, $"deleting the backup data of {item.Name} ({points} recovery point(s))",
                    "Stop protection and keep the data instead: its recovery points then expire by the policy's retention.");
            var request = await approvals.AddRequestAsync(db, user, CriticalOperations.StopProtectionDeleteData, item.Id, Resource(vault.Name, item.Name),
                $"Stop protection of {item.Name} in vault {vault.Name} and delete its backup data ({points} recovery point(s)); " +
                (vault.SoftDeleteEnabled ? $"soft-deleted for {vault.SoftDeleteRetentionDays} days, undeletable until then." : "soft delete is off: purged at once."),
                ct, resourceVersion: item.Version);
            audit.Append(db, user, AuditActions.ItemStopProtectionDeleteRequest, Resource(vault.Name, item.Name), request.Summary);
            await db.SaveChangesAsync(ct);
        });

    /// <summary>Protects a stopped item again with its policy.</summary>
    public Task ResumeAsync(Guid itemId, uint version, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemResume, $"item/{itemId}", async user =>
        {
            Access.Require(user, "resume protection", Protectors);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await LoadAsync(db, itemId, ct);
            if (item.Version != version) throw ChangedMeanwhile(item);
            if (item.State != ProtectionState.ProtectionStopped)
                throw new PortalConflictException(item.State == ProtectionState.SoftDeleted
                    ? $"The backup data of {item.Name} is soft-deleted: undelete it first, then resume protection."
                    : $"{item.Name} is already protected.");
            item.State = ProtectionState.Protected;
            item.ProtectionStoppedAt = null;
            audit.Append(db, user, AuditActions.ItemResume, Resource(item.Vault!.Name, item.Name));
            await SaveAsync(db, item, ct);
            await scheduler.SyncItemAsync(item.Id, ct);
            await manifests.RefreshAsync(item.VaultId, ct);
        });

    /// <summary>Brings soft-deleted backup data back (the item returns as "protection stopped", as in Azure).</summary>
    public Task UndeleteAsync(Guid itemId, uint version, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemUndelete, $"item/{itemId}", async user =>
        {
            Access.Require(user, "undelete backup data", Protectors);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await LoadAsync(db, itemId, ct);
            if (item.Version != version) throw ChangedMeanwhile(item);
            if (item.State != ProtectionState.SoftDeleted)
                throw new PortalConflictException($"The backup data of {item.Name} is not deleted.");
            item.State = ProtectionState.ProtectionStopped;
            item.SoftDeletedAt = null;
            audit.Append(db, user, AuditActions.ItemUndelete, Resource(item.Vault!.Name, item.Name));
            await SaveAsync(db, item, ct);
            await manifests.RefreshAsync(item.VaultId, ct);
        });

    internal static DateTime? PurgeAfter(BackupItem item, Vaults.Vault vault) =>
        item.SoftDeletedAt?.AddDays(vault.SoftDeleteEnabled ? vault.SoftDeleteRetentionDays : 0);

    internal static string Resource(string vault, string item) => $"vault/{vault}/item/{item}";

    public static string Describe(ProtectionState state) => state switch
    {
        ProtectionState.Protected => "protected",
        ProtectionState.ProtectionStopped => "protection stopped, data kept",
        _ => "backup data soft-deleted",
    };

    private sealed record Row(BackupItem Item, string VaultName, string? PolicyName, string? PolicyDefinition);

    private static ItemSummary Summary(Row row, Dictionary<string, PolicyDefinition> definitions, DateTime now, IReadOnlyDictionary<Guid, string>? machineNames = null)
    {
        PolicyDefinition? policy = null;
        if (row.PolicyDefinition is { } json && !definitions.TryGetValue(json, out policy))
            definitions[json] = policy = PolicyDefinition.FromJson(json);
        var i = row.Item;
        var next = i.State == ProtectionState.Protected && policy is not null ? PolicySchedules.NextRunUtc(policy.Schedule, now) : null;
        return new ItemSummary(i.Id, i.Name, i.Kind, i.VaultId, row.VaultName, row.PolicyName, i.State, i.SourcePath,
            i.LastBackupStatus, i.LastBackupAt, next, i.LatestRecoveryPointAt,
            ProtectionRules.Health(i.State, i.LastBackupStatus, i.LatestRecoveryPointAt, i.CreatedAt, policy, now),
            i.MachineId, i.MachineId is { } m ? machineNames?.GetValueOrDefault(m) : null);
    }

    private Task<IReadOnlyDictionary<Guid, string>> MachineNamesAsync(IEnumerable<Guid?> ids, CancellationToken ct) =>
        machines.NamesAsync([.. ids.OfType<Guid>().Distinct()], ct);

    private static bool HasScripts(ScriptSettings? scripts) =>
        scripts is not null && (Blank(scripts.PreScript) is not null || Blank(scripts.PostScript) is not null);

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static List<string> Clean(IReadOnlyList<string>? patterns) =>
        [.. (patterns ?? []).Select(p => p.Trim()).Where(p => p.Length > 0).Distinct()];

    private static async Task<BackupItem> LoadAsync(PortalDbContext db, Guid itemId, CancellationToken ct) =>
        await db.BackupItems.Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == itemId, ct) ?? throw Gone();

    private Task SaveAsync(PortalDbContext db, BackupItem item, CancellationToken ct) =>
        db.SaveOrExplainAsync(async () =>
        {
            await using var fresh = await dbFactory.CreateDbContextAsync(ct);
            return await fresh.BackupItems.AnyAsync(i => i.Id == item.Id, ct) ? ChangedMeanwhile(item) : Gone();
        }, ct);

    internal static PortalNotFoundException Gone() => new("This backup item no longer exists: its backup data was purged.");

    private static PortalConflictException ChangedMeanwhile(BackupItem item) =>
        new($"{item.Name} was changed by someone else after you opened it (a backup, a stop or a resume). Nothing was saved: reload and try again.");
}

/// <summary>Stops protection and soft-deletes the backup data once a second Backup.Contributor approves.</summary>
internal sealed class StopProtectionDeleteDataOperation(TimeProvider clock) : ICriticalOperation
{
    public string Name => CriticalOperations.StopProtectionDeleteData;

    public string AuditAction => AuditActions.ItemStopProtectionDelete;

    public async Task ExecuteAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct)
    {
        // Unlike a policy change, the request's ResourceVersion is not compared: every scheduled backup in the 24 hours
        // before approval changes the item's row, and what is approved (delete this item's data) does not depend on it.
        var item = await db.BackupItems.FirstOrDefaultAsync(i => i.Id == request.ResourceId, ct) ?? throw ProtectionService.Gone();
        if (item.State == ProtectionState.SoftDeleted)
            throw new PortalConflictException($"The backup data of {item.Name} is already deleted.");
        var vault = await db.Vaults.AsNoTracking().FirstAsync(v => v.Id == item.VaultId, ct);
        if (vault.IsImmutable() && await db.RecoveryPoints.AnyAsync(p => p.ItemId == item.Id, ct))
            throw VaultImmutabilityRules.Refusal(vault, $"deleting the backup data of {item.Name}", "Reject this request; stop protection and keep the data instead.");
        var now = clock.GetUtcNow().UtcDateTime;
        item.State = ProtectionState.SoftDeleted;
        item.ProtectionStoppedAt ??= now;
        item.SoftDeletedAt = now;
    }
}
