using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Features.Protection;
using Portal.Features.Jobs.Pipeline;

namespace Portal.Features.Workloads;

/// <summary>PostgreSQL database items in protection: their checks, their sealed password and their pg_dump backup.</summary>
internal sealed class PostgreSqlWorkload(DatabaseBackup backups, DatabaseSecrets secrets) : IDatabaseWorkload
{
    public string Validate(DatabaseSettings database, ScriptSettings? scripts, Dictionary<string, string> errors) =>
        WorkloadChecks.Validate(database, scripts, errors);

    public Task CheckReachableAsync(DatabaseSettings database, CancellationToken ct) => WorkloadChecks.CheckReachableAsync(database, ct);

    public byte[] SealPassword(string password) => secrets.Seal(password);

    public async Task<IDatabaseBackupRun> PrepareBackupAsync(BackupItem item, JobRun run, CancellationToken ct) =>
        new Run(backups, await backups.PrepareAsync(item, run, ct));

    private sealed class Run(DatabaseBackup backups, DatabaseTarget target) : IDatabaseBackupRun
    {
        public string Display => target.Display;

        public Task<BackupResult> BackupAsync(BackupEngine engine, JobRun run, IReadOnlyList<string> tags, DateTimeOffset? keepUntil, CancellationToken ct) =>
            backups.BackupAsync(target, engine, run, tags, keepUntil, ct);
    }
}
