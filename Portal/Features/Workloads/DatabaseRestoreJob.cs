using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Engine.Progress;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using Portal.Data;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Workloads;

/// <summary>
/// A database restore as a job: checks pg_restore's version against the target server before anything runs, creates
/// the new database (or takes the original), and streams the dump from the vault into pg_restore's stdin, verified
/// chunk by chunk, with live progress. pg_restore runs in one transaction (<c>--single-transaction --exit-on-error</c>):
/// a failed restore over the original leaves it as it was, and a new database that failed is dropped again. Not
/// resumable: when the instance running it dies, the job fails and says what to check.
/// </summary>
public sealed class DatabaseRestoreJob(
    IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys, PostgreSqlTools tools, DatabaseBackup databases,
    Microsoft.Extensions.Options.IOptions<WorkloadsOptions> options, ILogger<DatabaseRestoreJob> logger) : JobHandler<QueuedDatabaseRestore>
{
    public override string Name => "restore-database";

    public override JobKind Kind => JobKind.Restore;

    public override bool Resumable => false;

    protected override string Noun => "restore";

    /// <summary>Restores of one item (files or database) run one at a time.</summary>
    public override string ConcurrencyKey(QueuedDatabaseRestore input) => $"restore/{input.Request.ItemId:N}";

    public override async Task<JobOutcome> RunAsync(QueuedDatabaseRestore queued, JobRun run, CancellationToken ct)
    {
        var request = queued.Request;
        var database = request.NewDatabaseName!;
        BackupItem item;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == request.ItemId, ct)
                   ?? throw new PortalConflictException("The backup item was removed before the restore started.");
        // The item's database on the target server: where the version check, CREATE and DROP DATABASE connect (or postgres).
        var server0 = DatabaseRestoreService.Resolve(databases.TargetOf(item), options.Value, request);
        var target = server0 with { Database = database };
        var original = request.Target == DatabaseRestoreTarget.OriginalDatabase;
        var (tool, server) = await tools.CheckVersionsAsync("pg_restore", server0, ct, anyDatabase: !original);
        await run.LogAsync(JobLogLevel.Info, $"pg_restore {tool} for PostgreSQL {server} at {target.Host}:{target.Port}.");

        using var engine = await keys.OpenAsync(item.VaultId, item.Vault!.Name, item.Vault.Region, ct);
        var entry = (await engine.ListDirectoryAsync(queued.SnapshotId, null, ct)).FirstOrDefault(e => e.Path == DatabaseBackup.DumpFileName)
                    ?? throw new PortalConflictException("This recovery point holds no database dump.");
        if (!original)
        {
            await CreateDatabaseAsync(server0, database, ct);
            created[run.JobId] = server0;
            await run.LogAsync(JobLogLevel.Info, $"Created database {database} on {target.Host}:{target.Port}.");
        }

        string[] arguments = original
            ? ["--dbname", database, "--single-transaction", "--exit-on-error", "--clean", "--if-exists"]
            : ["--dbname", database, "--single-transaction", "--exit-on-error", "--no-owner"];
        var (exitCode, messages) = await PgRestoreAsync(tools, engine, queued.SnapshotId, entry.Size, target, arguments, run, ct);
        if (exitCode != 0)
        {
            var last = PostgreSqlTools.LastError(messages);
            throw new PortalConflictException($"pg_restore failed with exit code {exitCode}{(last is null ? "" : $": {last}")}. " +
                (original ? $"It ran in one transaction, so {database} is as it was before." : $"The new database {database} was dropped again.") +
                " The job's log has pg_restore's messages.");
        }

        created.TryRemove(run.JobId, out _);
        var done = $"Restored the recovery point of {item.Name} ({Format.Bytes(entry.Size)} dump) " +
                   (original ? $"over the original database {database}" : $"to the new database {database}") + $" on {target.Host}:{target.Port}.";
        await run.LogAsync(JobLogLevel.Info, done);
        return JobOutcome.Completed(done);
    }

    /// <summary>
    /// Streams the dump of <paramref name="snapshotId"/> from the vault into pg_restore's stdin (verified chunk by chunk,
    /// with live progress), and logs pg_restore's messages. Returns its exit code and messages; a restore drill uses it too.
    /// </summary>
    internal static async Task<(int ExitCode, string Messages)> PgRestoreAsync(PostgreSqlTools tools, Portal.Engine.BackupEngine engine, string snapshotId, long size,
        DatabaseTarget target, string[] arguments, JobRun run, CancellationToken ct)
    {
        using var process = tools.Start("pg_restore", target, arguments, redirectInput: true);
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        await using var kill = ct.Register(() => DatabaseBackup.Kill(process));
        var progress = new Progress(run, size);
        try
        {
            await using (var input = new CountingStream(process.StandardInput.BaseStream, progress))
                await engine.WriteFileAsync(snapshotId, DatabaseBackup.DumpFileName, input, ct);
        }
        catch (IOException) when (process.HasExited)
        {
            // pg_restore stopped reading (it failed): its exit code and messages say why
        }

        await process.WaitForExitAsync(CancellationToken.None);
        ct.ThrowIfCancellationRequested();
        var messages = ((await errors) + (await output)).Trim();
        if (messages.Length > 0)
            await run.LogAsync(process.ExitCode == 0 ? JobLogLevel.Info : JobLogLevel.Error,
                messages.Split('\n').Select(l => "pg_restore: " + l.TrimEnd()).TakeLast(200));
        return (process.ExitCode, messages);
    }

    /// <summary>The new databases this instance's running restores created: dropped again if the restore does not complete.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, DatabaseTarget> created = new();

    protected override async Task AbandonedAsync(QueuedDatabaseRestore input, JobRun run, JobStatus status)
    {
        if (created.TryRemove(run.JobId, out var server))
            await DropAsync(server, input.Request.NewDatabaseName!);
    }

    protected override string Cancelled(QueuedDatabaseRestore input) =>
        "Cancelled. " + (input.Request.Target == DatabaseRestoreTarget.OriginalDatabase
            ? $"The restore ran in one transaction: {input.Request.NewDatabaseName} is as it was."
            : $"The new database {input.Request.NewDatabaseName} was dropped again.");

    protected override string Interrupted(QueuedDatabaseRestore input) =>
        "The restore did not finish. " + (input.Request.Target == DatabaseRestoreTarget.OriginalDatabase
            ? $"It ran in one transaction, so {input.Request.NewDatabaseName} is as it was. Restore again."
            : $"If the new database {input.Request.NewDatabaseName} still exists, it is empty or partly restored: drop it, then restore again.");

    protected override string? Explain(Exception e, QueuedDatabaseRestore input) =>
        VaultFailures.Explain(e, "the restore ran in one transaction, so nothing half-restored is visible");

    internal static async Task CreateDatabaseAsync(DatabaseTarget target, string database, CancellationToken ct)
    {
        try
        {
            await using var connection = await WorkloadRules.OpenMaintenanceAsync(target, ct);
            await using var command = new NpgsqlCommand($"CREATE DATABASE {WorkloadRules.Quote(database)}", connection);
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            throw new PortalConflictException($"A database named {database} was created on {target.Host}:{target.Port} meanwhile. Restore to another new name.");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new PortalConflictException($"User {target.User} may not create databases on {target.Host}:{target.Port} (it needs CREATEDB). Grant it, or restore over the original database.");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new PortalConflictException(PostgreSqlTools.Unreachable(target, e));
        }
    }

    private async Task DropAsync(DatabaseTarget target, string database)
    {
        try
        {
            await using var connection = await WorkloadRules.OpenMaintenanceAsync(target, CancellationToken.None);
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {WorkloadRules.Quote(database)} WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogWarning("Dropping the half-restored database {Database} failed: {Reason}", database, e.Message);
        }
    }

    private sealed class Progress(JobRun run, long total) : IProgress<long>
    {
        private long lastReport;

        public void Report(long done)
        {
            if (done - lastReport < 256 * 1024 && done < total)
                return;
            lastReport = done;
            run.Report(new OperationProgress(OperationPhase.Restore, done >= total ? 1 : 0, 1, done, total, DatabaseBackup.DumpFileName) { IsFinal = done >= total },
                "Restoring the database");
        }
    }

    /// <summary>Passes writes to pg_restore's stdin, counting the bytes for progress.</summary>
    private sealed class CountingStream(Stream inner, IProgress<long> progress) : Stream
    {
        private long written;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            progress.Report(written += buffer.Length);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            progress.Report(written += count);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => written;
        public override long Position { get => written; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync(); // closes pg_restore's stdin: the end of the dump
            await base.DisposeAsync();
        }
    }
}
