using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Features.Workloads;
using Portal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Portal.Tests.Integration;

/// <summary>PostgreSQL database items on the real server the tests start: pg_dump into the vault, pg_restore back out.</summary>
public sealed class DatabaseItemTests(ITestOutputHelper output) : ProtectionHostTest
{
    private const string DbPassword = "s3cret-Db-Pa55word-7f3a";
    private readonly SampleDatabase shop = new();
    private readonly System.Security.Claims.ClaimsPrincipal otto = TestUsers.WithRoles("Otto", PortalRoles.Operator);
    private readonly System.Security.Claims.ClaimsPrincipal helen = TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync(); // the host first: nothing may still be dumping the sample database
        await shop.DisposeAsync();
    }

    private async Task<ItemDetails> ProtectAsync(ProtectionHost on, string? password = DbPassword)
    {
        var vault = await on.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("sales", "east", StorageRedundancy.LRS));
        var policy = (await on.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        return await on.Protection(otto).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "shop database", "", null, null, Passphrase, Passphrase,
            new DatabaseSettings(shop.Host, shop.Port, shop.Name, shop.User, password)));
    }

    private async Task<Job> BackUpAsync(ProtectionHost on, Guid itemId, JobStatus expected = JobStatus.Completed)
    {
        var job = await on.Protection(otto).BackUpNowAsync(itemId, DateTime.UtcNow.AddDays(30));
        var done = await on.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));
        Assert.True(expected == done.Status, done.Message);
        return done;
    }

    private async Task<Job> RestoreAsync(System.Security.Claims.ClaimsPrincipal user, DatabaseRestoreRequest request, JobStatus expected = JobStatus.Completed)
    {
        var job = await host.ActAs(user).GetRequiredService<DatabaseRestoreService>().StartAsync(request);
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));
        Assert.True(expected == done.Status, done.Message);
        return done;
    }

    [Fact]
    public async Task A_database_is_backed_up_changed_backed_up_again_and_each_point_restores_to_what_it_held()
    {
        await shop.CreateAsync(rows: 20_000);
        var item = await ProtectAsync(host);
        Assert.Equal(BackupItemKinds.PostgreSql, item.Item.Kind);
        var atFirst = await shop.FingerprintAsync();
        await BackUpAsync(host, item.Item.Id);
        await shop.ExecuteAsync("UPDATE orders SET note = note || ' (returned)' WHERE id % 100 = 0"); // 1 % of rows
        var atSecond = await shop.FingerprintAsync();
        Assert.NotEqual(atFirst, atSecond);
        await BackUpAsync(host, item.Item.Id);

        var points = (await host.Protection(otto).GetAsync(item.Item.Id))!.RecoveryPoints; // newest first
        Assert.Equal(2, points.Count);
        Assert.All(points, p => Assert.Equal(RecoveryPointConsistency.ApplicationConsistent, p.Consistency));

        // The first point into a new database, by a Restore.Operator.
        var copy = shop.Also("shop_copy");
        var job = await RestoreAsync(helen, new DatabaseRestoreRequest(item.Item.Id, points[1].Id, DatabaseRestoreTarget.NewDatabase, copy));
        Assert.Equal(atFirst, await shop.FingerprintAsync(copy));
        Assert.True(job.BytesDone > 0, "the restore reported its progress");

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => host.ActAs(TestUsers.WithRoles("Rita", PortalRoles.Reader)).GetRequiredService<DatabaseRestoreService>()
            .StartAsync(new DatabaseRestoreRequest(item.Item.Id, points[1].Id, DatabaseRestoreTarget.NewDatabase, shop.Also("shop_copy"))));

        // Over the original: needs Backup.Operator and the typed name; then the original holds the first point again.
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => host.ActAs(helen).GetRequiredService<DatabaseRestoreService>()
            .StartAsync(new DatabaseRestoreRequest(item.Item.Id, points[1].Id, DatabaseRestoreTarget.OriginalDatabase, ConfirmName: shop.Name)));
        var wrong = await Assert.ThrowsAsync<PortalValidationException>(() => host.ActAs(otto).GetRequiredService<DatabaseRestoreService>()
            .StartAsync(new DatabaseRestoreRequest(item.Item.Id, points[1].Id, DatabaseRestoreTarget.OriginalDatabase, ConfirmName: "shop")));
        Assert.Contains($"Type the database's name, {shop.Name}", wrong.Message);
        Assert.Equal(atSecond, await shop.FingerprintAsync()); // nothing happened
        await RestoreAsync(otto, new DatabaseRestoreRequest(item.Item.Id, points[1].Id, DatabaseRestoreTarget.OriginalDatabase, ConfirmName: shop.Name));
        Assert.Equal(atFirst, await shop.FingerprintAsync());

        // And the newer point into another new database.
        var copy2 = shop.Also("shop_copy");
        await RestoreAsync(otto, new DatabaseRestoreRequest(item.Item.Id, points[0].Id, DatabaseRestoreTarget.NewDatabase, copy2));
        Assert.Equal(atSecond, await shop.FingerprintAsync(copy2));
    }

    [Fact]
    public async Task A_restore_to_a_name_that_exists_or_is_not_a_database_name_is_refused_before_anything_runs()
    {
        await shop.CreateAsync(rows: 100);
        var item = await ProtectAsync(host);
        await BackUpAsync(host, item.Item.Id);
        var point = (await host.Protection(otto).GetAsync(item.Item.Id))!.RecoveryPoints.Single();
        var restores = host.ActAs(otto).GetRequiredService<DatabaseRestoreService>();
        var exists = await Assert.ThrowsAsync<PortalValidationException>(() =>
            restores.StartAsync(new DatabaseRestoreRequest(item.Item.Id, point.Id, DatabaseRestoreTarget.NewDatabase, shop.Name)));
        Assert.Contains("already exists", exists.Errors["NewDatabaseName"]);
        var bad = await Assert.ThrowsAsync<PortalValidationException>(() =>
            restores.StartAsync(new DatabaseRestoreRequest(item.Item.Id, point.Id, DatabaseRestoreTarget.NewDatabase, "x\"; DROP DATABASE postgres; --")));
        Assert.Contains("not a database name", bad.Errors["NewDatabaseName"]);
        Assert.Equal(100, (await shop.FingerprintAsync()).Rows);
    }

    [Fact]
    public async Task A_restore_that_pg_restore_refuses_drops_the_new_database_and_leaves_the_original_as_it_was()
    {
        // The point grants SELECT to a role that is gone by restore time: pg_restore stops at that GRANT.
        var role = "reader_" + Guid.NewGuid().ToString("N")[..8];
        await shop.CreateAsync(rows: 1_000);
        await shop.ExecuteAsync($"CREATE ROLE {role}; GRANT SELECT ON orders TO {role}");
        var item = await ProtectAsync(host);
        await BackUpAsync(host, item.Item.Id);
        await shop.ExecuteAsync($"REVOKE SELECT ON orders FROM {role}; DROP ROLE {role}; DELETE FROM orders WHERE id > 500");
        var now = await shop.FingerprintAsync();
        var point = (await host.Protection(otto).GetAsync(item.Item.Id))!.RecoveryPoints.Single();

        var copy = shop.Also("shop_copy");
        var failed = await RestoreAsync(otto, new DatabaseRestoreRequest(item.Item.Id, point.Id, DatabaseRestoreTarget.NewDatabase, copy), JobStatus.Failed);
        Assert.Contains("pg_restore failed with exit code 1", failed.Message);
        Assert.Contains($"role \"{role}\" does not exist", failed.Message);
        Assert.Contains($"The new database {copy} was dropped again", failed.Message);
        Assert.False(await shop.ScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{copy}')", "postgres"));

        var over = await RestoreAsync(otto, new DatabaseRestoreRequest(item.Item.Id, point.Id, DatabaseRestoreTarget.OriginalDatabase, ConfirmName: shop.Name), JobStatus.Failed);
        Assert.Contains($"{shop.Name} is as it was before", over.Message);
        Assert.Equal(now, await shop.FingerprintAsync());
    }

    [Fact]
    public async Task A_database_restores_to_a_new_database_on_another_configured_server_and_only_there()
    {
        // "reporting" is the test server under another name: what matters is that the restore goes where the configuration says.
        await host.DisposeAsync();
        host = await ProtectionHost.StartAsync(database, root, settings: new Dictionary<string, string?>
        {
            ["Workloads:PostgreSqlServers:0:Name"] = "reporting",
            ["Workloads:PostgreSqlServers:0:Host"] = shop.Host,
            ["Workloads:PostgreSqlServers:0:Port"] = shop.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await shop.CreateAsync(rows: 500);
        var item = await ProtectAsync(host);
        await BackUpAsync(host, item.Item.Id);
        var point = (await host.Protection(otto).GetAsync(item.Item.Id))!.RecoveryPoints.Single();
        var restores = host.ActAs(otto).GetRequiredService<DatabaseRestoreService>();
        Assert.Equal(["reporting"], restores.Servers.Select(s => s.Name));

        var unknown = await Assert.ThrowsAsync<PortalValidationException>(() =>
            restores.StartAsync(new DatabaseRestoreRequest(item.Item.Id, point.Id, DatabaseRestoreTarget.NewDatabase, shop.Also("x"), Server: "warehouse")));
        Assert.Contains("No PostgreSQL server named warehouse is configured", unknown.Errors["Server"]);
        var copy = shop.Also("shop_report");
        var job = await RestoreAsync(helen, new DatabaseRestoreRequest(item.Item.Id, point.Id, DatabaseRestoreTarget.NewDatabase, copy, Server: "reporting"));
        Assert.Contains($"to the new database {copy} on {shop.Host}:{shop.Port}", job.Message);
        Assert.Equal(await shop.FingerprintAsync(), await shop.FingerprintAsync(copy));
    }

    [Fact]
    public async Task The_password_is_sealed_in_the_database_row_and_appears_in_no_log_or_audit_entry()
    {
        await shop.CreateAsync(rows: 100);
        var item = await ProtectAsync(host);
        var job = await BackUpAsync(host, item.Item.Id);

        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        foreach (var table in new[] { "backup_items", "audit_entries", "job_log", "jobs" })
        {
            await using var command = new NpgsqlCommand($"SELECT coalesce(string_agg(t::text, '|'), '') FROM {table} t", connection);
            var text = (string)(await command.ExecuteScalarAsync())!;
            Assert.DoesNotContain(DbPassword, text);
            Assert.DoesNotContain(Convert.ToHexString(Encoding.UTF8.GetBytes(DbPassword)), text, StringComparison.OrdinalIgnoreCase);
        }

        await using var db = await database.Factory.CreateDbContextAsync();
        var row = await db.BackupItems.SingleAsync(i => i.Id == item.Item.Id);
        Assert.NotNull(row.SealedDatabasePassword);
        Assert.Equal(DbPassword, host.Services.GetRequiredService<DatabaseSecrets>().Unseal(row.SealedDatabasePassword, "shop"));
        Assert.Contains("application-consistent", job.Message);
    }

    [Fact]
    public async Task A_new_password_replaces_the_sealed_one_and_no_password_keeps_it()
    {
        await shop.CreateAsync(rows: 10);
        var item = await ProtectAsync(host);
        var workloads = host.ActAs(otto).GetRequiredService<WorkloadService>();
        async Task<byte[]?> SealedAsync()
        {
            await using var db = await database.Factory.CreateDbContextAsync();
            return (await db.BackupItems.AsNoTracking().SingleAsync(i => i.Id == item.Item.Id)).SealedDatabasePassword;
        }

        var before = await SealedAsync();
        await workloads.UpdateDatabaseAsync(item.Item.Id, item.Version, new DatabaseSettings(shop.Host, shop.Port, shop.Name, shop.User, null));
        Assert.Equal(before, await SealedAsync());
        var version = (await host.Protection(otto).GetAsync(item.Item.Id))!.Version;
        await workloads.UpdateDatabaseAsync(item.Item.Id, version, new DatabaseSettings(shop.Host, shop.Port, shop.Name, shop.User, "another-Pa55word"));
        var after = await SealedAsync();
        Assert.NotEqual(before, after);
        Assert.Equal("another-Pa55word", host.Services.GetRequiredService<DatabaseSecrets>().Unseal(after, "shop"));
        Assert.DoesNotContain("another-Pa55word", Encoding.UTF8.GetString(after!));
        await BackUpAsync(host, item.Item.Id);
    }

    [Fact]
    public async Task A_pg_dump_older_than_the_server_is_a_clear_error_before_anything_runs()
    {
        // A pg_dump that says it is 9.6 (and notes every call): the real server is newer, so the backup must stop after
        // asking for the version, with both versions and the fix in the job, and make no recovery point.
        var bin = Directory.CreateDirectory(Path.Combine(root, "old-bin")).FullName;
        var calls = Path.Combine(root, "calls.txt");
        var script = Path.Combine(bin, "pg_dump");
        await File.WriteAllTextAsync(script, $"#!/bin/sh\necho \"$@\" >> '{calls}'\necho 'pg_dump (PostgreSQL) 9.6.24'\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await host.DisposeAsync();
        host = await ProtectionHost.StartAsync(database, root, settings: new Dictionary<string, string?> { ["Workloads:PostgreSqlBinPath"] = bin });
        await shop.CreateAsync(rows: 100);
        var server = await shop.ScalarAsync<int>("SELECT current_setting('server_version_num')::int") / 10000;
        var item = await ProtectAsync(host);

        var job = await BackUpAsync(host, item.Item.Id, JobStatus.Failed);

        Assert.Contains("pg_dump is version 9", job.Message);
        Assert.Contains($"runs PostgreSQL {server}", job.Message);
        Assert.Contains($"postgresql-client-{server}", job.Message);
        Assert.Contains("Nothing was run", job.Message);
        Assert.Equal(["--version"], await File.ReadAllLinesAsync(calls));
        Assert.Empty((await host.Protection(otto).GetAsync(item.Item.Id))!.RecoveryPoints);
    }

    [Fact]
    public async Task A_pg_dump_that_fails_midway_makes_no_recovery_point_and_the_job_says_why()
    {
        // The real pg_dump's version, then half a dump and an error, as when the server goes away mid-dump.
        var bin = Directory.CreateDirectory(Path.Combine(root, "failing-bin")).FullName;
        var real = Path.Combine(host.Services.GetRequiredService<PostgreSqlTools>().BinPath, "pg_dump");
        var script = Path.Combine(bin, "pg_dump");
        await File.WriteAllTextAsync(script,
            $"#!/bin/sh\nif [ \"$1\" = --version ]; then exec '{real}' --version; fi\nhead -c 3000000 /dev/urandom\necho 'pg_dump: error: Dumping the contents of table \"orders\" failed: connection lost' >&2\nexit 1\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await host.DisposeAsync();
        host = await ProtectionHost.StartAsync(database, root, settings: new Dictionary<string, string?> { ["Workloads:PostgreSqlBinPath"] = bin });
        await shop.CreateAsync(rows: 100);
        var item = await ProtectAsync(host);

        var job = await BackUpAsync(host, item.Item.Id, JobStatus.Failed);

        Assert.Contains("pg_dump failed with exit code 1", job.Message);
        Assert.Contains("connection lost", job.Message);
        Assert.Contains("No recovery point was made", job.Message);
        Assert.Empty((await host.Protection(otto).GetAsync(item.Item.Id))!.RecoveryPoints);
        using var engine = await host.Services.GetRequiredService<VaultKeys>().OpenAsync(item.Item.VaultId, "sales", "east");
        Assert.Empty(await engine.ListSnapshotsAsync());
    }

    [Fact]
    public async Task A_database_that_cannot_be_reached_is_refused_when_protection_is_configured()
    {
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("sales", "east", StorageRedundancy.LRS));
        var policy = (await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        var missing = await Assert.ThrowsAsync<PortalValidationException>(() => host.Protection(otto).ConfigureAsync(new ConfigureProtectionRequest(
            vault.Id, policy.Id, "ghost", "", null, null, Passphrase, Passphrase, new DatabaseSettings(shop.Host, shop.Port, "no_such_db", shop.User, "x"))));
        Assert.Contains("does not exist", missing.Errors["DatabaseHost"]);
        await using var db = await database.Factory.CreateDbContextAsync();
        Assert.False(await db.BackupItems.AnyAsync());
    }

    /// <summary>
    /// The README's day-to-day figures: a 200,000-row database (an 18 MB dump), backed up, then changed three ways and
    /// backed up after each. Run it with
    /// <c>./portal.sh test --filter "FullyQualifiedName~Day_to_day" --logger "console;verbosity=detailed"</c>.
    /// </summary>
    [Fact]
    public async Task Day_to_day_deduplication_of_a_database_with_one_percent_of_rows_changed()
    {
        await shop.CreateAsync(rows: 200_000);
        var item = await ProtectAsync(host);
        await BackUpAsync(host, item.Item.Id);
        // Day 2: 1 % of rows updated, the recent ones (the day's orders shipped). New row versions go to the table's end.
        await shop.ExecuteAsync("UPDATE orders SET note = note || ' (shipped)' WHERE id > 198000");
        await BackUpAsync(host, item.Item.Id);
        // Day 3: 1 % new rows. Short rows fill the free space left in every page, so they land all over the dump.
        await shop.ExecuteAsync("VACUUM orders");
        await shop.ExecuteAsync("INSERT INTO orders SELECT i, 'customer ' || (i % 977), 1.00, 'new order' FROM generate_series(200001, 202000) AS i");
        await BackUpAsync(host, item.Item.Id);
        // Day 4: 1 % of rows updated anywhere in the table.
        await shop.ExecuteAsync("UPDATE orders SET amount = amount + 1 WHERE id % 100 = 42");
        await BackUpAsync(host, item.Item.Id);

        var points = (await host.Protection(otto).GetAsync(item.Item.Id))!.RecoveryPoints.OrderBy(p => p.CreatedAt).ToList();
        var first = points[0];
        output.WriteLine($"day 1: dump {first.Bytes:N0} bytes; the first backup added {first.BytesAdded:N0} bytes (compressed, encrypted)");
        foreach (var (point, what) in points.Skip(1).Zip(new[] { "1 % of rows updated, recent ones", "1 % new rows", "1 % of rows updated, spread" }))
            output.WriteLine($"{what}: dump {point.Bytes:N0} bytes, added {point.BytesAdded:N0} = {100.0 * point.BytesAdded / point.Bytes:F2} % of the dump, " +
                             $"{100.0 * point.BytesAdded / first.BytesAdded:F1} % of a full backup");
        var day2 = points[1];
        Assert.True(day2.BytesAdded < day2.Bytes / 100, $"the second backup added {day2.BytesAdded} bytes of a {day2.Bytes}-byte dump");
    }
}
