using System.Diagnostics;
using System.Globalization;
using Npgsql;
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
/// </summary>
public sealed class DatabaseDrill(PostgreSqlTools tools, DatabaseBackup databases)
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
