using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Common;
using Portal.Features.Drills;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Features.Workloads;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>
/// Drills of PostgreSQL items on the real server: the latest point restored into a throwaway database, the item's check
/// query answered there (read-only, within a timeout) and recorded in the evidence, the database dropped whatever happened.
/// </summary>
public sealed class DatabaseDrillTests : ProtectionHostTest
{
    private const string DbPassword = "s3cret-Db-Pa55word-7f3a";
    private readonly SampleDatabase shop = new();

    public override async Task InitializeAsync()
    {
        await database.InitializeAsync();
        host = await ProtectionHost.StartAsync(database, root, settings: new Dictionary<string, string?> { ["Restore:CheckQueryTimeoutSeconds"] = "2" });
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await shop.DisposeAsync();
    }

    private DrillService Drills(System.Security.Claims.ClaimsPrincipal user) => host.ActAs(user).GetRequiredService<DrillService>();

    private async Task<Guid> BackedUpDatabaseAsync()
    {
        await shop.CreateAsync(rows: 1_234);
        var (vault, policy) = await NewVaultAsync();
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "shop database", "", null, null, Passphrase, Passphrase,
            new DatabaseSettings(shop.Host, shop.Port, shop.Name, shop.User, DbPassword)));
        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));
        Assert.True(done.Status == JobStatus.Completed, done.Message);
        return item.Item.Id;
    }

    private async Task<Job> DrillAsync(Guid itemId)
    {
        var job = await Drills(ann).RunNowAsync(itemId);
        return await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));
    }

    private Task<long> DrillDatabasesAsync() =>
        shop.ScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname LIKE '{DatabaseDrill.NamePrefix}%'", "postgres");

    [Fact]
    public async Task A_database_drill_restores_into_a_throwaway_database_records_the_check_querys_answer_and_drops_it_and_a_writing_or_slow_query_fails_it()
    {
        var itemId = await BackedUpDatabaseAsync();
        var before = await DrillDatabasesAsync();
        await Drills(ann).SetCheckQueryAsync(itemId, "select count(*) as orders, sum(amount) > 0 as paid from orders;");
        Assert.Equal("select count(*) as orders, sum(amount) > 0 as paid from orders;", (await Drills(ann).GetItemSettingsAsync(itemId)).CheckQuery);

        var done = await DrillAsync(itemId);

        Assert.True(done.Status == JobStatus.Completed, done.Message);
        Assert.Contains("into the throwaway database portal_drill_", done.Message);
        Assert.Contains("answered: orders = 1234, paid = True.", done.Message);
        var drill = Assert.Single(await Drills(ann).ListAsync(itemId));
        Assert.Equal((DrillResult.Passed, "whole database", 1L), (drill.Result, drill.Sample, drill.FilesVerified));
        Assert.True(drill.BytesVerified > 0 && drill.EstimatedFullRestoreSeconds == drill.RestoreSeconds);
        Assert.Contains("orders = 1234", Assert.Single(await host.ActAs(ann).GetRequiredService<DrillEvidence>().ListAsync(itemId, null)).Detail);
        Assert.Equal(before, await DrillDatabasesAsync()); // dropped

        // A query that writes is refused by the read-only transaction: the drill fails with the cause, the copy is dropped,
        // and the item's own database is untouched.
        await Drills(ann).SetCheckQueryAsync(itemId, "delete from orders returning id");
        done = await DrillAsync(itemId);
        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.Contains("a check query only reads", done.Message);
        Assert.Equal(before, await DrillDatabasesAsync());
        Assert.Equal(1234L, await shop.ScalarAsync<long>("select count(*) from orders"));

        // One longer than Restore:CheckQueryTimeoutSeconds (2 s here) is stopped.
        await Drills(ann).SetCheckQueryAsync(itemId, "select pg_sleep(30)");
        done = await DrillAsync(itemId);
        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.Contains("The check query ran longer than 2", done.Message);
        Assert.Equal(before, await DrillDatabasesAsync());
        Assert.Equal([DrillResult.Failed, DrillResult.Failed, DrillResult.Passed], (await Drills(ann).ListAsync(itemId)).Select(d => d.Result));
    }

    /// <summary>
    /// A portal instance that dies mid-drill leaves its throwaway database behind: the next drill on that server drops those
    /// of ended drill jobs and names them in its log, and leaves alone one of a job this catalog does not know (another portal's).
    /// </summary>
    [Fact]
    public async Task The_next_drill_drops_throwaway_databases_left_by_ended_drills_and_names_them_in_its_log()
    {
        var itemId = await BackedUpDatabaseAsync();
        var first = await DrillAsync(itemId);
        Assert.True(first.Status == JobStatus.Completed, first.Message);
        // As if the first drill's instance had died before dropping its copy; and a drill database of another portal on the same server.
        var left = DatabaseDrill.NamePrefix + first.Id.ToString("N");
        var foreign = DatabaseDrill.NamePrefix + Guid.NewGuid().ToString("N");
        await shop.ExecuteAsync($"CREATE DATABASE {left}", "postgres");
        await shop.ExecuteAsync($"CREATE DATABASE {foreign}", "postgres");
        try
        {
            var second = await DrillAsync(itemId);

            Assert.True(second.Status == JobStatus.Completed, second.Message);
            var log = string.Join("\n", (await host.ActAs(ann).GetRequiredService<JobQueries>().LogAsync(second.Id)).Select(l => l.Text));
            Assert.Contains($"Dropped the throwaway database {left} left by drill job {first.Id:N}, which ended without dropping it.", log);
            Assert.Contains($"The throwaway database {foreign}", log);
            Assert.Contains("which this portal does not know", log);
            Assert.Equal(0L, await shop.ScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname = '{left}'", "postgres"));
            Assert.Equal(1L, await shop.ScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname = '{foreign}'", "postgres"));
        }
        finally
        {
            await shop.ExecuteAsync($"DROP DATABASE IF EXISTS {foreign}", "postgres");
            await shop.ExecuteAsync($"DROP DATABASE IF EXISTS {left}", "postgres");
        }
    }

    [Fact]
    public async Task A_check_query_is_one_statement_set_by_those_who_protect_on_database_items_only()
    {
        var itemId = await BackedUpDatabaseAsync();

        var many = await Assert.ThrowsAsync<PortalValidationException>(() => Drills(ann).SetCheckQueryAsync(itemId, "select 1; drop table orders"));
        Assert.Equal("The check query must be one statement: remove the \";\" inside it.", many.Errors["CheckQuery"]);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() =>
            Drills(TestUsers.WithRoles("Rita", PortalRoles.Reader)).SetCheckQueryAsync(itemId, "select 1"));
        await Drills(TestUsers.WithRoles("Otto", PortalRoles.Operator)).SetCheckQueryAsync(itemId, "  select 1  ");
        Assert.Equal("select 1", (await Drills(ann).GetItemSettingsAsync(itemId)).CheckQuery);
        await Drills(ann).SetCheckQueryAsync(itemId, " ");
        Assert.Null((await Drills(ann).GetItemSettingsAsync(itemId)).CheckQuery);
        await using var db = database.Factory.CreateDbContext();
        Assert.Equal(["no drill check query", "drill check query: select 1"],
            await db.AuditEntries.Where(a => a.Action == "Item.DrillSchedule" && a.Outcome == Portal.Features.Audit.AuditOutcome.Succeeded)
                .OrderByDescending(a => a.Id).Select(a => a.Detail).ToListAsync());

        var (vault, policy) = await NewVaultAsync("files");
        var folder = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(folder);
        var files = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", folder, null, null, Passphrase, Passphrase));
        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Drills(ann).SetCheckQueryAsync(files.Item.Id, "select 1"));
        Assert.Equal("share is not a database: a check query is for PostgreSQL items.", refused.Errors["CheckQuery"]);
    }
}
