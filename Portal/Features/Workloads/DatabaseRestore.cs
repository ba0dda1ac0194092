using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Features.Restore;
using Portal.Features.Jobs.Pipeline;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Identity;

namespace Portal.Features.Workloads;

public enum DatabaseRestoreTarget
{
    /// <summary>A new database (created by the restore) on the item's server or a configured one.</summary>
    NewDatabase,

    /// <summary>Over the original database: its objects are dropped and restored in one transaction.</summary>
    OriginalDatabase,
}

/// <summary>A database restore as the page asks for it.</summary>
/// <param name="Server">A name from Workloads:PostgreSqlServers, or null for the item's own server.</param>
/// <param name="ConfirmName">For the original database: its name, typed to confirm.</param>
public sealed record DatabaseRestoreRequest(
    Guid ItemId, Guid RecoveryPointId, DatabaseRestoreTarget Target, string? NewDatabaseName = null, string? Server = null, string? ConfirmName = null);

/// <summary>
/// Restores of PostgreSQL database items. A new database (Backup.Contributor, Backup.Operator, Restore.Operator) is
/// created by the restore and must not exist yet; restoring over the original database needs Backup.Operator or
/// Backup.Contributor and its name typed to confirm. Either runs as a job with live progress.
/// </summary>
public sealed class DatabaseRestoreService(
    IDbContextFactory<PortalDbContext> dbFactory,
    AuditLog audit,
    JobPipeline pipeline,
    DatabaseRestoreJob restores,
    DatabaseBackup databases,
    IOptions<WorkloadsOptions> options)
{
    /// <summary>The servers a database can be restored to: the item's own (null) and the configured ones.</summary>
    public IReadOnlyList<PostgreSqlServerOptions> Servers => options.Value.PostgreSqlServers;

    public Task<Job> StartAsync(DatabaseRestoreRequest request, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.RestoreStart, $"item/{request.ItemId}", async user =>
        {
            Access.Require(user, request.Target == DatabaseRestoreTarget.OriginalDatabase ? "restore over the original database" : "restore databases",
                request.Target == DatabaseRestoreTarget.OriginalDatabase ? RestoreService.Overwriters : RestoreService.Restorers);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == request.ItemId, ct) ?? throw ProtectionService.Gone();
            if (item.Kind != BackupItemKinds.PostgreSql)
                throw new PortalValidationException("ItemId", $"{item.Name} is not a database: restore its files with the restore wizard.");
            var point = await db.RecoveryPoints.AsNoTracking().FirstOrDefaultAsync(p => p.Id == request.RecoveryPointId && p.ItemId == item.Id, ct)
                        ?? throw new PortalNotFoundException("This recovery point no longer exists: the retention run removed it. Choose another point.");
            var target = Resolve(databases.TargetOf(item), options.Value, request);
            string database;
            if (request.Target == DatabaseRestoreTarget.OriginalDatabase)
            {
                if (!string.Equals(request.ConfirmName?.Trim(), item.DatabaseName, StringComparison.Ordinal))
                    throw new PortalValidationException("ConfirmName", $"Type the database's name, {item.DatabaseName}, exactly to confirm that it is overwritten.");
                database = item.DatabaseName!;
            }
            else
            {
                database = request.NewDatabaseName?.Trim() ?? "";
                if (WorkloadRules.CheckDatabaseName(database) is { } nameError)
                    throw new PortalValidationException("NewDatabaseName", nameError);
                if (await ExistsAsync(target, database, ct))
                    throw new PortalValidationException("NewDatabaseName",
                        $"A database named {database} already exists on {target.Host}:{target.Port}. Choose a new name; to overwrite the original, restore over the original database.");
            }

            var where = $"{database} on {target.Host}:{target.Port}";
            audit.Append(db, user, AuditActions.RestoreStart, ProtectionService.Resource(item.Vault!.Name, item.Name),
                $"point {point.SnapshotId[..8]} ({point.CreatedAt:yyyy-MM-dd HH:mm} UTC) → {(request.Target == DatabaseRestoreTarget.OriginalDatabase ? "over the original database " : "new database ")}{where}");
            var queued = new QueuedDatabaseRestore(request with { NewDatabaseName = database }, point.SnapshotId, point.VaultId);
            var job = pipeline.Enqueue(db, restores, queued, new JobTarget(item.VaultId, item.Vault.Name, item.Id, $"{item.Name} → {where}"), user.DisplayName());
            await db.SaveChangesAsync(ct); // the job and its audit row together
            await pipeline.QueuedAsync(job, ct);
            return job;
        });

    /// <summary>The server a restore writes to, with the item's user and password.</summary>
    internal static DatabaseTarget Resolve(DatabaseTarget own, WorkloadsOptions options, DatabaseRestoreRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Server) || request.Target == DatabaseRestoreTarget.OriginalDatabase)
            return own;
        var server = options.PostgreSqlServers.FirstOrDefault(s => string.Equals(s.Name, request.Server, StringComparison.OrdinalIgnoreCase))
                     ?? throw new PortalValidationException("Server", $"No PostgreSQL server named {request.Server} is configured (Workloads:PostgreSqlServers).");
        return own with { Host = server.Host, Port = server.Port };
    }

    internal static async Task<bool> ExistsAsync(DatabaseTarget target, string database, CancellationToken ct)
    {
        try
        {
            await using var connection = await WorkloadRules.OpenMaintenanceAsync(target, ct);
            await using var command = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", connection) { Parameters = { new() { Value = database } } };
            return (bool)(await command.ExecuteScalarAsync(ct))!;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new PortalConflictException(PostgreSqlTools.Unreachable(target, e));
        }
    }
}

/// <summary>A database restore as queued: the request as checked (with the new database's name), and the point's snapshot.</summary>
public sealed record QueuedDatabaseRestore(DatabaseRestoreRequest Request, string SnapshotId, Guid VaultId);
