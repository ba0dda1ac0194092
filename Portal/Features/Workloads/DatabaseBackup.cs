using System.Diagnostics;
using Npgsql;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Features.Jobs.Pipeline;

namespace Portal.Features.Workloads;

/// <summary>
/// The backup of a PostgreSQL database item: the versions are checked first, then pg_dump's custom format, uncompressed
/// (<c>--compress=0</c>) so that a day's changes deduplicate against yesterday's dump, is streamed into the engine as the
/// one file of the recovery point, never staged on disk. A dump is a consistent snapshot of the database (one
/// repeatable-read transaction): the recovery point is application-consistent. When pg_dump fails, no point is made.
/// </summary>
public sealed class DatabaseBackup(PostgreSqlTools tools, DatabaseSecrets secrets)
{
    /// <summary>The name of the dump in a database recovery point.</summary>
    public const string DumpFileName = "database.dump";

    public DatabaseTarget TargetOf(BackupItem item) =>
        new(item.DatabaseHost ?? "", item.DatabasePort ?? 5432, item.DatabaseName ?? "", item.DatabaseUser ?? "", secrets.Unseal(item.SealedDatabasePassword, item.Name));

    /// <summary>Checks that pg_dump suits the server (throws a conflict naming both versions); run before anything else.</summary>
    public async Task<DatabaseTarget> PrepareAsync(BackupItem item, JobRun run, CancellationToken ct)
    {
        var target = TargetOf(item);
        var (tool, server) = await tools.CheckVersionsAsync("pg_dump", target, ct);
        await run.LogAsync(JobLogLevel.Info, $"pg_dump {tool} for PostgreSQL {server} at {target.Host}:{target.Port}.");
        return target;
    }

    public async Task<BackupResult> BackupAsync(DatabaseTarget target, BackupEngine engine, JobRun run, IReadOnlyList<string> tags, DateTimeOffset? keepUntil, CancellationToken ct)
    {
        var expected = await SizeAsync(target, ct);
        using var process = tools.Start("pg_dump", target, ["--format=custom", "--compress=0", "--no-sync", "--dbname", target.Database]);
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        await using var kill = ct.Register(() => Kill(process));
        try
        {
            var stream = new ToolOutputStream(process, "pg_dump", errors, ct);
            return await engine.BackupStreamAsync(new StreamBackupRequest(target.SourceName, DumpFileName) { Tags = tags, ExpectedBytes = expected, KeepUntil = keepUntil },
                stream, run.Progress, ct);
        }
        finally
        {
            if (!process.HasExited)
                Kill(process);
            await process.WaitForExitAsync(CancellationToken.None);
            var text = (await errors).Trim();
            if (text.Length > 0)
                await run.LogAsync(JobLogLevel.Warning, text.Split('\n').Select(l => "pg_dump: " + l.TrimEnd()).TakeLast(200));
        }
    }

    /// <summary>The database's size on disk, as an estimate of the dump's size for progress (0 when unknown).</summary>
    private static async Task<long> SizeAsync(DatabaseTarget target, CancellationToken ct)
    {
        try
        {
            await using var connection = new NpgsqlConnection(target.ConnectionString());
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT pg_database_size(current_database())", connection);
            return (long)(await command.ExecuteScalarAsync(ct))!;
        }
        catch (NpgsqlException)
        {
            return 0; // pg_dump says what is wrong
        }
    }

    internal static void Kill(Process process)
    {
        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }
}

/// <summary>
/// A tool's stdout as a stream that, at its end, waits for the tool and throws when it failed: the engine writes the
/// recovery point only after a clean end, so a dump cut short never becomes a recovery point.
/// </summary>
internal sealed class ToolOutputStream(Process process, string tool, Task<string> errors, CancellationToken ct) : Stream
{
    private readonly Stream output = process.StandardOutput.BaseStream;

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = output.Read(buffer, offset, count);
        if (n > 0 || count == 0)
            return n;
        process.WaitForExit();
        ct.ThrowIfCancellationRequested();
        if (process.ExitCode != 0)
        {
            var text = errors.Wait(TimeSpan.FromSeconds(10)) ? errors.Result.Trim() : "";
            var last = PostgreSqlTools.LastError(text);
            throw new PortalConflictException(
                $"{tool} failed with exit code {process.ExitCode}{(last is null ? "" : $": {last}")}. No recovery point was made; the job's log has {tool}'s messages.");
        }

        return 0;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
