using Microsoft.EntityFrameworkCore;
using Portal.Features.Common;
using Portal.Features.Protection;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Identity;

namespace Portal.Features.Workloads;

/// <summary>
/// Changes to what a protected item runs: a folder item's pre/post-backup scripts (Backup.Contributor: they run
/// commands on the portal host) and a database item's server, user and password (Backup.Contributor or
/// Backup.Operator; the password is sealed at once, and left as it is when none is given).
/// </summary>
public sealed class WorkloadService(IDbContextFactory<PortalDbContext> dbFactory, AuditLog audit, DatabaseSecrets secrets)
{
    public Task UpdateScriptsAsync(Guid itemId, uint version, ScriptSettings scripts, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemUpdate, $"item/{itemId}", async user =>
        {
            Access.Require(user, "set pre- and post-backup scripts (they run commands on the portal host)", PortalRoles.Contributor);
            var errors = new Dictionary<string, string>();
            ItemScripts.Check(scripts, errors);
            if (errors.Count > 0)
                throw new PortalValidationException(errors);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await LoadAsync(db, itemId, version, ct);
            if (item.Kind != BackupItemKinds.FilesAndFolders)
                throw new PortalValidationException("PreScript", "Pre- and post-backup scripts are for files and folders: a database backup is application-consistent by itself.");
            (item.PreScript, item.PostScript, item.ScriptTimeoutSeconds) = (Blank(scripts.PreScript), Blank(scripts.PostScript), scripts.TimeoutSeconds);
            audit.Append(db, user, AuditActions.ItemUpdate, ProtectionService.Resource(item.Vault!.Name, item.Name),
                $"pre-backup script: {item.PreScript ?? "none"}; post-backup script: {item.PostScript ?? "none"}; timeout: {item.ScriptTimeoutSeconds?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"}");
            await SaveAsync(db, item, ct);
        });

    public Task UpdateDatabaseAsync(Guid itemId, uint version, DatabaseSettings database, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemUpdate, $"item/{itemId}", async user =>
        {
            Access.Require(user, "change database items", PortalRoles.Contributor, PortalRoles.Operator);
            var errors = new Dictionary<string, string>();
            var source = WorkloadChecks.Validate(database, null, errors);
            if (errors.Count > 0)
                throw new PortalValidationException(errors);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await LoadAsync(db, itemId, version, ct);
            if (item.Kind != BackupItemKinds.PostgreSql)
                throw new PortalValidationException("DatabaseHost", $"{item.Name} is not a database item.");
            var password = string.IsNullOrEmpty(database.Password) ? secrets.Unseal(item.SealedDatabasePassword, item.Name) : database.Password;
            await WorkloadChecks.CheckReachableAsync(database with { Password = password }, ct);
            (item.DatabaseHost, item.DatabasePort, item.DatabaseName, item.DatabaseUser, item.SourcePath) =
                (database.Host.Trim(), database.Port ?? 5432, database.Database.Trim(), database.User.Trim(), source);
            if (!string.IsNullOrEmpty(database.Password))
                item.SealedDatabasePassword = secrets.Seal(database.Password);
            audit.Append(db, user, AuditActions.ItemUpdate, ProtectionService.Resource(item.Vault!.Name, item.Name),
                $"database {database}{(string.IsNullOrEmpty(database.Password) ? "" : "; password changed")}");
            await SaveAsync(db, item, ct);
        });

    private static async Task<BackupItem> LoadAsync(PortalDbContext db, Guid itemId, uint version, CancellationToken ct)
    {
        var item = await db.BackupItems.Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == itemId, ct) ?? throw ProtectionService.Gone();
        if (item.Version != version)
            throw ChangedMeanwhile(item);
        return item;
    }

    private Task SaveAsync(PortalDbContext db, BackupItem item, CancellationToken ct) =>
        db.SaveOrExplainAsync(async () =>
        {
            await using var fresh = await dbFactory.CreateDbContextAsync(ct);
            return await fresh.BackupItems.AnyAsync(i => i.Id == item.Id, ct) ? ChangedMeanwhile(item) : ProtectionService.Gone();
        }, ct);

    private static PortalConflictException ChangedMeanwhile(BackupItem item) =>
        new($"{item.Name} was changed by someone else after you opened it (a backup, a stop or a resume). Nothing was saved: reload and try again.");

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
