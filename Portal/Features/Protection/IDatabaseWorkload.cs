using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Features.Jobs.Pipeline;

namespace Portal.Features.Protection;

/// <summary>
/// How database items plug into protection: how their settings are checked and their password sealed when protection
/// is configured, and how one is backed up. Protection owns items, schedules and recovery points; Workloads implements
/// this for PostgreSQL (pg_dump), so protection never knows the tools.
/// </summary>
public interface IDatabaseWorkload
{
    /// <summary>Adds each broken rule to <paramref name="errors"/>; returns the item's source name (what is backed up, without the password).</summary>
    string Validate(DatabaseSettings database, ScriptSettings? scripts, Dictionary<string, string> errors);

    /// <summary>Signs in to the database once: wrong credentials or an unreachable server are a validation error, and nothing is saved.</summary>
    Task CheckReachableAsync(DatabaseSettings database, CancellationToken ct);

    /// <summary>The password as the database row keeps it (sealed with the portal's key ring).</summary>
    byte[] SealPassword(string password);

    /// <summary>Checks that the tools suit the server (a conflict naming both versions) before anything else runs, not even the vault is opened.</summary>
    Task<IDatabaseBackupRun> PrepareBackupAsync(BackupItem item, JobRun run, CancellationToken ct);
}

/// <summary>A prepared backup of one database item: its recovery point is application-consistent.</summary>
public interface IDatabaseBackupRun
{
    /// <summary>The database in words for the job's summary ("sales on db1:5432"), never the password.</summary>
    string Display { get; }

    Task<BackupResult> BackupAsync(BackupEngine engine, JobRun run, IReadOnlyList<string> tags, DateTimeOffset? keepUntil, CancellationToken ct);
}
