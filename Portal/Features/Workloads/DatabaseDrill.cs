using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Data;
using Portal.Engine;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;

namespace Portal.Features.Workloads;

/// <summary>What a drill of a database item's recovery point found.</summary>
/// <param name="Database">The throwaway database it restored into (dropped again).</param>
/// <param name="DumpBytes">The dump's size: what was restored and verified chunk by chunk.</param>
/// <param name="RestoreTime">pg_restore's time, from the first byte streamed to its exit (the drill's RTO measured).</param>
/// <param name="CheckAnswer">The check query's answer in words ("count = 1200"), or null without a check query.</param>
public sealed record DatabaseDrillResult(string Database, long DumpBytes, TimeSpan RestoreTime, string? CheckAnswer);

/// <summary>
/// A restore drill of a PostgreSQL item: restores a recovery point's dump into a throwaway database with a unique name
/// on the item's own server (as a restore to a new database does: the item's user needs CREATEDB), runs the item's
/// check query if one is set (one statement, in a read-only transaction, within <c>statement_timeout</c>) and records
/// its answer, then drops the database: always, also when the restore or the query failed or the drill was cancelled.
/// A portal instance that dies mid-drill cannot drop it: before creating its own, each drill drops the throwaway databases
/// on that server left by drill jobs of this catalog that have ended, and by an earlier attempt of its own job (taken over),
/// naming each in the job's log. A <c>portal_drill_*</c> database of a job this catalog does not know (another portal's, or
/// from before the catalog was lost) is left alone and named.
/// </summary>
public sealed class DatabaseDrill(PostgreSqlTools tools, DatabaseBackup databases, IDbContextFactory<PortalDbContext> dbFactory)
{
    /// <summary>Throwaway databases are named with this prefix and the drill job's id.</summary>
    public const string NamePrefix = "portal_drill_";

    public async Task<DatabaseDrillResult> RunAsync(BackupItem item, BackupEngine engine, string snapshotId, string? checkQuery, TimeSpan checkTimeout,
        JobRun run, CancellationToken ct)
    {
        var server = databases.TargetOf(item);
        var name = NamePrefix + run.JobId.ToString("N");
        var target = server with { Database = name };
        var (tool, version) = await tools.CheckVersionsAsync("pg_restore", server, ct, anyDatabase: true);
        await run.LogAsync(JobLogLevel.Info, $"pg_restore {tool} for PostgreSQL {version} at {server.Host}:{server.Port}.");
        var entry = (await engine.ListDirectoryAsync(snapshotId, null, ct)).FirstOrDefault(e => e.Path == DatabaseBackup.DumpFileName)
                    ?? throw new PortalConflictException("This recovery point holds no database dump.");

        await SweepAsync(server, run, ct);
        await DatabaseRestoreJob.CreateDatabaseAsync(server, name, ct);
        await run.LogAsync(JobLogLevel.Info, $"Created the throwaway database {name} on {server.Host}:{server.Port}.");
        string? answer = null;
        TimeSpan restoreTime;
        Exception? failure = null;
        try
        {
            var watch = Stopwatch.StartNew();
            var (exitCode, messages) = await DatabaseRestoreJob.PgRestoreAsync(tools, engine, snapshotId, entry.Size, target,
                ["--dbname", name, "--single-transaction", "--exit-on-error", "--no-owner"], run, ct);
            restoreTime = watch.Elapsed;
            if (exitCode != 0)
                throw new PortalConflictException($"pg_restore failed with exit code {exitCode}{(PostgreSqlTools.LastError(messages) is { } last ? $": {last}" : "")}.");
            if (checkQuery is { Length: > 0 })
            {
                answer = await CheckAsync(target, checkQuery, checkTimeout, ct);
                await run.LogAsync(JobLogLevel.Info, $"Check query answered: {answer}");
            }
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally
        {
            var dropProblem = await DropAsync(server, name);
            await run.LogAsync(dropProblem is null ? JobLogLevel.Info : JobLogLevel.Error,
                dropProblem is null ? $"Dropped the throwaway database {name}." : $"The throwaway database {name} could not be dropped: {dropProblem} Drop it by hand.");
            if (dropProblem is not null && failure is null)
                throw new PortalConflictException($"The throwaway database {name} on {server.Host}:{server.Port} could not be dropped: {dropProblem} Drop it by hand.");
        }

        return new DatabaseDrillResult(name, entry.Size, restoreTime, answer);
    }

    /// <summary>
    /// Drops the <c>portal_drill_*</c> databases on <paramref name="server"/> whose drill job has ended (or is this job: an
    /// earlier attempt of it, taken over), and names those of jobs this catalog does not know. Best effort: a database that
    /// cannot be dropped or listed is a warning, not a failed drill.
    /// </summary>
    private async Task SweepAsync(DatabaseTarget server, JobRun run, CancellationToken ct)
    {
        var found = new List<(string Name, Guid Job)>();
        try
        {
            await using var connection = await WorkloadRules.OpenMaintenanceAsync(server, ct);
            await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE starts_with(datname, @prefix) ORDER BY datname", connection);
            command.Parameters.AddWithValue("prefix", NamePrefix);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var name = reader.GetString(0);
                if (Guid.TryParseExact(name[NamePrefix.Length..], "N", out var job))
                    found.Add((name, job));
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or PortalException)
        {
            await run.LogAsync(JobLogLevel.Warning, $"Could not look for throwaway databases left by earlier drills on {server.Host}:{server.Port}: {(e is PostgresException p ? p.MessageText + "." : e.Message)}");
            return;
        }

        if (found.Count == 0)
            return;
        var ids = found.Select(f => f.Job).ToList();
        Dictionary<Guid, JobStatus> jobs;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            jobs = await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id)).ToDictionaryAsync(j => j.Id, j => j.Status, ct);
        foreach (var (name, job) in found)
        {
            if (job != run.JobId && !jobs.ContainsKey(job))
            {
                await run.LogAsync(JobLogLevel.Warning,
                    $"The throwaway database {name} on {server.Host}:{server.Port} belongs to drill job {job:N}, which this portal does not know (another portal's, or one from before its catalog was lost): left alone. Drop it by hand if no portal is drilling it.");
                continue;
            }

            if (job != run.JobId && !jobs[job].IsFinished())
                continue; // a drill still running (on another instance): it drops its own
            var problem = await DropAsync(server, name);
            await run.LogAsync(problem is null ? JobLogLevel.Info : JobLogLevel.Warning, problem is null
                ? $"Dropped the throwaway database {name} left by {(job == run.JobId ? "an earlier attempt of this drill" : $"drill job {job:N}")}, which ended without dropping it."
                : $"The throwaway database {name} left by drill job {job:N} could not be dropped: {problem} Drop it by hand.");
        }
    }

    /// <summary>Null when <paramref name="query"/> can be a check query, else why not (one statement: no ";" but a last one).</summary>
    public static string? CheckQueryProblem(string? query)
    {
        if (string.IsNullOrWhiteSpace(query)) return null;
        var text = query.Trim().TrimEnd(';').TrimEnd();
        if (text.Length > MaxQueryLength) return $"The check query is {text.Length:N0} characters long; at most {MaxQueryLength:N0}.";
        if (text.Contains(';')) return "The check query must be one statement: remove the \";\" inside it.";
        if (text.Contains('\0')) return "The check query contains a NUL character.";
        return null;
    }

    public const int MaxQueryLength = 2000;

    /// <summary>
    /// Runs <paramref name="query"/> in a read-only transaction with a statement timeout and says its first row in words
    /// ("count = 1200"; "no rows"). Anything it would write is refused by PostgreSQL; errors fail the drill in words.
    /// </summary>
    private static async Task<string> CheckAsync(DatabaseTarget target, string query, TimeSpan timeout, CancellationToken ct)
    {
        var text = query.Trim().TrimEnd(';').TrimEnd();
        var ms = (long)Math.Max(1000, timeout.TotalMilliseconds);
        try
        {
            await using var connection = new NpgsqlConnection(target.ConnectionString());
            await connection.OpenAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using (var setup = new NpgsqlCommand($"SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = {ms.ToString(CultureInfo.InvariantCulture)}", connection, transaction))
                await setup.ExecuteNonQueryAsync(ct);
            await using var command = new NpgsqlCommand(text, connection, transaction) { CommandTimeout = (int)(ms / 1000) + 15 };
            await using var reader = await command.ExecuteReaderAsync(ct);
            string answer;
            if (!await reader.ReadAsync(ct))
                answer = "no rows";
            else
                answer = string.Join(", ", Enumerable.Range(0, reader.FieldCount).Select(i =>
                    $"{reader.GetName(i)} = {(reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))}"));
            return answer.Length > 500 ? answer[..500] + "…" : answer;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled)
        {
            throw new PortalConflictException($"The check query ran longer than {Format.Duration(TimeSpan.FromMilliseconds(ms))} and was stopped.");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ReadOnlySqlTransaction)
        {
            throw new PortalConflictException($"The check query tried to change the database ({e.MessageText}); a check query only reads.");
        }
        catch (PostgresException e)
        {
            throw new PortalConflictException($"The check query failed on the restored database: {e.MessageText}.");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new PortalConflictException(PostgreSqlTools.Unreachable(target, e));
        }
    }

    /// <summary>Drops the throwaway database (closing any session on it); null when done, else why not.</summary>
    private static async Task<string?> DropAsync(DatabaseTarget server, string name)
    {
        try
        {
            await using var connection = await WorkloadRules.OpenMaintenanceAsync(server, CancellationToken.None);
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {WorkloadRules.Quote(name)} WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or PortalException)
        {
            return e is PostgresException p ? p.MessageText + "." : e.Message;
        }
    }
}
