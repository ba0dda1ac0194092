using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Features.Jobs.Pipeline;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Features.Restore;

/// <summary>
/// Restores for help-desk staff: the points of an item (and the regions that hold them), a point's folders, search,
/// preview, the plan of a restore (target, size, estimated duration, every rule checked), and the restore itself as a
/// job. Restore.Operator restores as copies or to an alternate folder; overwriting the original location needs
/// Backup.Operator or Backup.Contributor. Every restore and download is audited (who, what, from which point, to where).
/// </summary>
public sealed class RestoreService(
    IDbContextFactory<PortalDbContext> dbFactory,
    ICurrentUser currentUser,
    AuditLog audit,
    VaultKeys keys,
    IMachines machines,
    JobPipeline pipeline,
    RestoreJob restores,
    MachineRestoreJob machineRestores,
    RegionCatalog regions,
    IOptions<RestoreOptions> options)
{
    /// <summary>Who may restore at all.</summary>
    public static readonly string[] Restorers = [PortalRoles.Contributor, PortalRoles.Operator, PortalRoles.RestoreOperator];

    /// <summary>Who may overwrite files at the original location.</summary>
    public static readonly string[] Overwriters = [PortalRoles.Contributor, PortalRoles.Operator];

    /// <summary>Restore speed assumed before any restore was measured.</summary>
    public const double DefaultBytesPerSecond = 50 * 1024 * 1024;

    public IReadOnlyList<string> Roots => options.Value.Roots;

    /// <summary>The item's recovery points, newest first, each with the regions that hold it now.</summary>
    public async Task<IReadOnlyList<RestorePoint>> ListPointsAsync(Guid itemId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view recovery points");
        var (item, vault) = await LoadAsync(itemId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var points = await db.RecoveryPoints.AsNoTracking().Where(p => p.ItemId == itemId).OrderByDescending(p => p.CreatedAt).ToListAsync(ct);
        var holders = new List<(string Region, HashSet<string>? Snapshots)>();
        foreach (var region in item.MachineId is null ? VaultRegions(vault) : [vault.Region])
            holders.Add((region, await SnapshotsInAsync(item, vault, region, ct)));
        return [.. points.Select(p => new RestorePoint(p.Id, p.SnapshotId, p.CreatedAt, p.Type == RecoveryPointType.OnDemand ? "On demand" : "Scheduled",
            p.Files, p.Bytes, [.. holders.Where(h => h.Snapshots?.Contains(p.SnapshotId) == true).Select(h => h.Region)], vault.Region))];
    }

    /// <summary>One folder of a point (folders first, then files, by name), a page at a time.</summary>
    public async Task<PagedResult<RestoreEntry>> BrowseAsync(Guid itemId, Guid pointId, string? path, string? region = null,
        IReadOnlySet<string>? changed = null, int pageIndex = 0, int pageSize = 100, CancellationToken ct = default)
    {
        await currentUser.RequireAnyRoleAsync("browse recovery points", Restorers);
        var (point, vault, item) = await LoadPointAsync(itemId, pointId, ct);
        using var engine = await OpenAsync(item, vault, region, ct);
        var entries = await Guard(() => engine.ListDirectoryAsync(point.SnapshotId, path, ct));
        var ordered = entries.OrderBy(e => e.Type == EntryType.Directory ? 0 : 1).ThenBy(e => e.Path, StringComparer.OrdinalIgnoreCase).ToList();
        var size = Math.Clamp(pageSize, 1, 1000);
        return new PagedResult<RestoreEntry>(
            [.. ordered.Skip(Math.Max(0, pageIndex) * size).Take(size).Select(e => new RestoreEntry(e, changed?.Contains(e.Path) == true))],
            ordered.Count);
    }

    /// <summary>
    /// Files and folders of a point whose name matches a glob (<c>*.pptx</c>, <c>report*</c>) or contains the text, ignoring
    /// case (a caller rarely remembers "Q3" or "q3"); at most <paramref name="limit"/>, and whether more matched.
    /// </summary>
    public async Task<RestoreSearchResult> SearchAsync(Guid itemId, Guid pointId, string pattern, string? region = null, int limit = 500, CancellationToken ct = default)
    {
        await currentUser.RequireAnyRoleAsync("search recovery points", Restorers);
        if (string.IsNullOrWhiteSpace(pattern))
            throw new PortalValidationException("Pattern", "Type a name or a pattern such as *.pptx.");
        pattern = pattern.Trim();
        if (PathFilter.Check(pattern) is { } error)
            throw new PortalValidationException("Pattern", error);
        var lower = pattern.ToLowerInvariant();
        var filter = PathFilter.Create([lower.Contains('*') || lower.Contains('?') ? lower : $"*{lower}*"], null);
        var (point, vault, item) = await LoadPointAsync(itemId, pointId, ct);
        using var engine = await OpenAsync(item, vault, region, ct);
        var all = await Guard(() => engine.ListTreeAsync(point.SnapshotId, cancellationToken: ct));
        var max = Math.Clamp(limit, 1, 5000);
        var found = all.Where(e => filter.IsIncludedFile(e.Path.ToLowerInvariant(), e.Path[(e.Path.LastIndexOf('/') + 1)..].ToLowerInvariant()))
            .Take(max + 1).ToList();
        return new RestoreSearchResult([.. found.Take(max)], found.Count > max, max);
    }

    /// <summary>The paths added or modified since the item's previous point (none for the first point: there is nothing to compare with).</summary>
    public async Task<IReadOnlySet<string>> ChangedSincePreviousAsync(Guid itemId, Guid pointId, string? region = null, CancellationToken ct = default)
    {
        await currentUser.RequireAnyRoleAsync("browse recovery points", Restorers);
        var (point, vault, item) = await LoadPointAsync(itemId, pointId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var previous = await db.RecoveryPoints.AsNoTracking().Where(p => p.ItemId == itemId && p.CreatedAt < point.CreatedAt)
            .OrderByDescending(p => p.CreatedAt).Select(p => p.SnapshotId).FirstOrDefaultAsync(ct);
        if (previous is null)
            return new HashSet<string>(); // the first point: nothing "changed" since, it is all there is
        using var engine = await OpenAsync(item, vault, region, ct);
        var diff = await Guard(() => engine.DiffAsync(previous, point.SnapshotId, cancellationToken: ct));
        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in diff.Where(d => d.Kind != DiffKind.Removed))
        {
            changed.Add(d.Path);
            for (var slash = d.Path.LastIndexOf('/'); slash > 0; slash = d.Path.LastIndexOf('/', slash - 1))
                changed.Add(d.Path[..slash]); // its folders changed too
        }

        return changed;
    }

    /// <summary>The text of a small file (for the preview), or a validation error saying why not.</summary>
    public async Task<string> PreviewAsync(Guid itemId, Guid pointId, string path, string? region = null, CancellationToken ct = default)
    {
        await currentUser.RequireAnyRoleAsync("preview files", Restorers);
        var (point, vault, item) = await LoadPointAsync(itemId, pointId, ct);
        using var engine = await OpenAsync(item, vault, region, ct);
        var entry = await FindEntryAsync(engine, point.SnapshotId, path, ct);
        if (entry.Type != EntryType.File)
            throw new PortalValidationException("Path", $"{path} is not a file.");
        if (entry.Size > options.Value.PreviewMaxBytes)
            throw new PortalValidationException("Path", $"{path} is {Format(entry.Size)}; the preview shows files up to {Format(options.Value.PreviewMaxBytes)}. Download it instead.");
        using var buffer = new MemoryStream();
        await Guard(() => engine.WriteFileAsync(point.SnapshotId, path, buffer, ct));
        var bytes = buffer.ToArray();
        if (Array.IndexOf(bytes, (byte)0) >= 0)
            throw new PortalValidationException("Path", $"{path} is not a text file; download it to open it.");
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Checks every rule of a restore and says what it will do; throws with the reason when it may not run.</summary>
    public async Task<RestorePlan> PlanAsync(FileRestoreRequest request, CancellationToken ct = default)
    {
        var user = await currentUser.RequireAnyRoleAsync("restore files", Restorers);
        var (point, vault, item) = await LoadPointAsync(request.ItemId, request.RecoveryPointId, ct);
        var errors = new Dictionary<string, string>();
        string target = item.SourcePath;
        var targetMachine = item.MachineId is { } source ? await machines.FindAsync(request.TargetMachineId ?? source, ct) : null;
        if (item.MachineId is not null)
        {
            // A machine's files go back onto a machine of the vault: its own, or another registered one (Azure's alternate-machine restore).
            if (targetMachine is null || targetMachine.VaultId != vault.Id)
                errors["TargetMachineId"] = $"Choose a machine registered to vault {vault.Name}: the one chosen is not.";
            else if (targetMachine.Revoked)
                errors["TargetMachineId"] = $"Machine {targetMachine.Name} was revoked; choose another machine.";
            if (request.Destination == RestoreDestination.AlternateLocation || targetMachine?.Id != item.MachineId)
            {
                var path = request.AlternatePath?.Trim();
                if (request.Destination != RestoreDestination.AlternateLocation)
                    errors["Destination"] = "On another machine, restore to a folder of your choice (alternate location).";
                else if (string.IsNullOrWhiteSpace(path) || !path.StartsWith('/'))
                    errors["AlternatePath"] = $"Give the full path of the folder on {targetMachine?.Name ?? "the machine"} to restore into, such as /srv/restores/ticket-1234.";
                else
                    target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
            }
        }
        else if (request.TargetMachineId is not null)
        {
            errors["TargetMachineId"] = "This item is on the portal host: restore it there, or download its files.";
        }
        else if (request.Destination == RestoreDestination.AlternateLocation)
        {
            if (string.IsNullOrWhiteSpace(request.AlternatePath) || !Path.IsPathFullyQualified(request.AlternatePath.Trim()))
                errors["AlternatePath"] = "Give the full path of the folder to restore into, such as /srv/restores/ticket-1234.";
            else if (options.Value.Roots.Count == 0)
                errors["AlternatePath"] = "No alternate restore folders are configured: an administrator must list them in Restore:Roots. Restore to the original location as copies instead.";
            else if (!SafePaths.IsUnderAny(target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.AlternatePath.Trim())), options.Value.Roots))
                errors["AlternatePath"] = $"{target} is outside the folders restores may write to ({string.Join(", ", options.Value.Roots)}). Choose a folder under one of them.";
        }

        if (request.Conflict == RestoreConflictOption.Overwrite && request.Destination == RestoreDestination.OriginalLocation
            && !Overwriters.Any(user.IsInRole))
            throw new PortalAccessDeniedException(
                "You can't overwrite files at the original location: that needs the Backup.Operator or Backup.Contributor role. Restore as copies, or to an alternate folder.");
        if (errors.Count > 0)
            throw new PortalValidationException(errors);

        var regionName = request.Region ?? vault.Region;
        using var engine = await OpenAsync(item, vault, regionName, ct);
        var files = 0L;
        var bytes = 0L;
        var paths = request.Paths.Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => p.Trim().Trim('/')).Distinct().ToList();
        foreach (var path in paths.Count == 0 ? [""] : paths)
        {
            var entries = await Guard(() => engine.ListTreeAsync(point.SnapshotId, path.Length == 0 ? null : path, cancellationToken: ct));
            files += entries.Count(e => e.Type == EntryType.File);
            bytes += entries.Where(e => e.Type == EntryType.File).Sum(e => e.Size);
        }

        if (targetMachine is null && CheckTarget(target, bytes) is { } targetError) // a machine checks its own disk when it restores
            throw new PortalValidationException(request.Destination == RestoreDestination.AlternateLocation ? "AlternatePath" : "Destination", targetError);
        var rate = await MeasuredRateAsync(ct);
        var estimate = TimeSpan.FromSeconds(Math.Ceiling(bytes / rate) + 2);
        var what = paths.Count == 0 ? "everything" : paths.Count == 1 ? paths[0] : $"{paths.Count} selected items";
        var conflict = request.Conflict switch
        {
            RestoreConflictOption.CreateCopy => "files already there are kept and the restored ones saved next to them as copies",
            RestoreConflictOption.Skip => "files already there are kept and not restored",
            _ => "files already there are overwritten",
        };
        var summary = $"Restore {what} ({files:N0} file{(files == 1 ? "" : "s")}, {Format(bytes)}) of {item.Name} from {point.CreatedAt:dddd d MMM yyyy HH:mm} UTC " +
                      $"to {target}{(targetMachine is null ? "" : $" on machine {targetMachine.Name}{(targetMachine.Online ? "" : " (offline now: the restore waits for it)")}")}{(regionName != vault.Region ? $", reading from the secondary region {regionName}" : "")}; {conflict}" +
                      $"{(request.Sparse ? "; blocks of zeros are left out as holes (sparse files)" : "")}. About {Describe(estimate)}.";
        return new RestorePlan(summary, target, files, bytes, estimate, point.CreatedAt, regionName, targetMachine);
    }

    /// <summary>Starts the restore as a job (after <see cref="PlanAsync"/>'s checks) and audits it.</summary>
    public Task<Job> StartAsync(FileRestoreRequest request, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.RestoreStart, $"item/{request.ItemId}", user => QueueAsync(user, request, AuditActions.RestoreStart, "", ct));

    /// <summary>
    /// Starts a failed restore again as it was asked: the same recovery point, selection, target, machine and conflict
    /// option. The person retrying must be allowed to restore that item that way now (<see cref="PlanAsync"/> checks every
    /// rule again: a Restore.Operator cannot retry someone's overwrite at the original location). Audited as Restore.Retry.
    /// </summary>
    public Task<Job> RetryAsync(Guid jobId, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.RestoreRetry, $"job/{jobId}", async user =>
        {
            Access.Require(user, "retry restores", Restorers);
            var failed = await JobRetry.FailedAsync(dbFactory, jobId, j => j.Kind == JobKind.Restore, "restore", ct);
            if (StoredRequest(failed) is not { } request || request.ItemId != failed.ItemId)
                throw new PortalConflictException("This restore cannot be repeated as it was (a download, or a restore started by an older portal): start it again from Restore files.");
            return await QueueAsync(user, request, AuditActions.RestoreRetry, $"retry of job {failed.Id}: ", ct, retryOf: failed.Id);
        });

    private static FileRestoreRequest? StoredRequest(Job failed)
    {
        try
        {
            return failed.Input is { } stored ? JobHandler<FileRestoreInput>.Deserialize(stored)?.Request : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // an input written by an older portal
        }
    }

    /// <summary>Plans <paramref name="request"/> (every rule), then queues it with its audit row in one transaction.</summary>
    private async Task<Job> QueueAsync(System.Security.Claims.ClaimsPrincipal user, FileRestoreRequest request, string action, string auditPrefix, CancellationToken ct,
        Guid? retryOf = null)
    {
        var plan = await PlanAsync(request, ct);
        var (point, vault, item) = await LoadPointAsync(request.ItemId, request.RecoveryPointId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        audit.Append(db, user, action, ProtectionService.Resource(vault.Name, item.Name),
            $"{auditPrefix}point {point.SnapshotId[..8]} ({point.CreatedAt:yyyy-MM-dd HH:mm} UTC) from {plan.Region}: " +
            $"{(request.Paths.Count == 0 ? "everything" : string.Join(", ", request.Paths.Take(20)))} → {plan.TargetPath}" +
            $"{(plan.TargetMachine is { } m ? $" on machine {m.Name}" : "")} ({request.Conflict})");
        var input = new FileRestoreInput(request, plan.TargetPath, plan.Bytes, item.MachineId, retryOf);
        var onto = plan.TargetMachine is { } machine ? $" on {machine.Name}" : "";
        var target = new JobTarget(vault.Id, vault.Name, item.Id, $"{item.Name} → {plan.TargetPath}{onto}", plan.TargetMachine?.Id);
        var job = plan.TargetMachine is null
            ? pipeline.Enqueue(db, restores, input, target, user.DisplayName())
            : pipeline.Enqueue(db, machineRestores, input, target, user.DisplayName());
        await db.SaveChangesAsync(ct); // the job and its audit row together
        await pipeline.QueuedAsync(job, ct);
        return job;
    }

    private async Task<double> MeasuredRateAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var recent = await db.Jobs.AsNoTracking()
            .Where(j => j.Kind == JobKind.Restore && j.Status == JobStatus.Completed && j.BytesDone > 10 * 1024 * 1024 && j.StartedAt != null && j.EndedAt != null)
            .OrderByDescending(j => j.EndedAt).Take(20).Select(j => new { j.BytesDone, j.StartedAt, j.EndedAt }).ToListAsync(ct);
        var rates = recent.Select(j => j.BytesDone / Math.Max(0.5, (j.EndedAt!.Value - j.StartedAt!.Value).TotalSeconds)).Order().ToList();
        return rates.Count == 0 ? DefaultBytesPerSecond : rates[rates.Count / 2]; // the median: one odd restore does not swing it
    }

    /// <summary>Null when <paramref name="target"/> can be created and written and has room for <paramref name="bytes"/>.</summary>
    internal static string? CheckTarget(string target, long bytes)
    {
        var existing = target;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
                return $"{existing} is a file; choose a folder.";
            existing = Path.GetDirectoryName(existing);
            if (existing is null)
                return $"No part of {target} exists.";
        }

        var probe = Path.Combine(existing, $".portal-write-check-{Guid.NewGuid():N}");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return $"The portal cannot write to {existing}: {e.Message} Give its user write access, or choose another folder.";
        }

        var free = new DriveInfo(existing).AvailableFreeSpace;
        return free < bytes
            ? $"{existing} has {Format(free)} free; the restore needs {Format(bytes)}. Free some space or choose another folder."
            : null;
    }

    internal async Task<(Protection.BackupItem Item, Vaults.Vault Vault)> LoadAsync(Guid itemId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == itemId, ct) ?? throw ProtectionService.Gone();
        return (item, item.Vault!);
    }

    internal async Task<(RecoveryPoint Point, Vaults.Vault Vault, Protection.BackupItem Item)> LoadPointAsync(Guid itemId, Guid pointId, CancellationToken ct)
    {
        var (item, vault) = await LoadAsync(itemId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var point = await db.RecoveryPoints.AsNoTracking().FirstOrDefaultAsync(p => p.Id == pointId && p.ItemId == itemId, ct)
                    ?? throw new PortalNotFoundException("This recovery point no longer exists: the retention run removed it. Choose another point.");
        return (point, vault, item);
    }

    /// <summary>
    /// The repository holding <paramref name="item"/>'s points in <paramref name="region"/>: the vault's (its own region, or its
    /// pair for a cross-region restore), or for an item on a machine the machine's own (read in the vault's region).
    /// </summary>
    internal async Task<BackupEngine> OpenAsync(Protection.BackupItem item, Vaults.Vault vault, string? region, CancellationToken ct)
    {
        var regionName = region ?? vault.Region;
        if (!VaultRegions(vault).Contains(regionName))
            throw new PortalValidationException("Region", $"Vault {vault.Name} keeps no data in region {regionName}.");
        if (item.MachineId is { } machine && regionName != vault.Region)
            throw new PortalValidationException("Region", $"Points of machines are read from the vault's region {vault.Region}.");
        try
        {
            return item.MachineId is { } m ? await machines.OpenRepositoryAsync(m, ct) : await keys.OpenAsync(vault.Id, vault.Name, regionName, ct);
        }
        catch (Exception e) when (e is Portal.Engine.Storage.StoreException or RepositoryNotFoundException)
        {
            throw new PortalConflictException(regionName == vault.Region && VaultRegions(vault).Count > 1
                ? $"The vault's region {regionName} cannot be read now ({e.Message}). Restore from the secondary region {VaultRegions(vault)[1]} instead."
                : $"Region {regionName} cannot be read now: {e.Message}");
        }
    }

    private IReadOnlyList<string> VaultRegions(Vaults.Vault vault) =>
        vault.Redundancy == Vaults.StorageRedundancy.GRS && regions.Find(vault.Region)?.PairedRegion is { } pair ? [vault.Region, pair] : [vault.Region];

    private async Task<HashSet<string>?> SnapshotsInAsync(Protection.BackupItem item, Vaults.Vault vault, string region, CancellationToken ct)
    {
        try
        {
            using var engine = item.MachineId is { } machine ? await machines.OpenRepositoryAsync(machine, ct) : await keys.OpenAsync(vault.Id, vault.Name, region, ct);
            return (await engine.ListSnapshotsAsync(cancellationToken: ct)).Select(s => s.Id).ToHashSet();
        }
        catch (Exception e) when (e is Portal.Engine.Storage.StoreException or RepositoryException or VaultLockedException)
        {
            return null; // not readable now (down, or not replicated yet): no point is marked as held there
        }
    }

    private static async Task<TreeEntry> FindEntryAsync(BackupEngine engine, string snapshot, string path, CancellationToken ct)
    {
        var trimmed = path.Trim().Trim('/');
        var slash = trimmed.LastIndexOf('/');
        var parent = slash < 0 ? null : trimmed[..slash];
        var entries = await Guard(() => engine.ListDirectoryAsync(snapshot, parent, ct));
        return entries.FirstOrDefault(e => e.Path == trimmed) ?? throw new PortalNotFoundException($"{path} is not in this recovery point.");
    }

    /// <summary>Engine refusals (a path not in the point, a hostile path) as the user's mistake; damage as a conflict.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (ArgumentException e)
        {
            throw new PortalValidationException("Path", e.Message);
        }
        catch (RepositoryException e) when (e is not DamagedObjectException)
        {
            throw new PortalValidationException("Path", e.Message);
        }
        catch (DamagedObjectException e)
        {
            throw new PortalConflictException($"The recovery point's data is damaged: {e.Message} Choose another point, and run a check of the vault.");
        }
    }

    internal static string Format(long bytes) => Portal.Features.Common.Format.Bytes(bytes);

    private static string Describe(TimeSpan t) =>
        t < TimeSpan.FromMinutes(1) ? $"{Math.Max(1, (int)t.TotalSeconds)} seconds"
        : t < TimeSpan.FromHours(1) ? $"{(int)Math.Ceiling(t.TotalMinutes)} minutes"
        : $"{t.TotalHours:F1} hours";
}
