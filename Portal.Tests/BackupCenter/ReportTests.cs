using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Features.BackupCenter;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Features.Reports;
using Portal.Features.Vaults;
using Portal.Tests.Components;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.BackupCenter;

/// <summary>Reports and the Backup center's figures over rows written to a real PostgreSQL, with a fake clock.</summary>
public sealed class ReportTests : IAsyncLifetime
{
    private static readonly DateTime Now = new(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);
    private readonly TestDatabase database = new();
    private readonly string root = Directory.CreateTempSubdirectory("portal-reports-").FullName;
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(Now));
    private readonly System.Security.Claims.ClaimsPrincipal rita = TestUsers.WithRoles("Rita", PortalRoles.Reader);
    private IServiceProvider services = null!;
    private VaultDetails vault = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        // With the protection services too (the health filter of the items list), never started: nothing runs in the background.
        services = new ServiceCollection().AddFeatureServices(database, clock).AddProtectionServices(database, root)
            .AddSingleton<ICurrentUser>(new FixedCurrentUser(rita)).BuildServiceProvider();
        vault = await TestPortal.For(database, TestUsers.WithRoles("Ann", PortalRoles.Contributor), clock).Vaults()
            .CreateAsync(new CreateVaultRequest("finance", "east", StorageRedundancy.GRS));
    }

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    private ReportService Reports => services.GetRequiredService<ReportService>();

    private async Task<BackupItem> ItemAsync(string name, DateTime created, JobStatus? last = null, params DateTime[] points)
    {
        await using var db = database.Factory.CreateDbContext();
        var policy = await db.BackupPolicies.FirstAsync(p => p.VaultId == vault.Id);
        var item = new BackupItem
        {
            Id = Guid.CreateVersion7(), VaultId = vault.Id, Name = name, PolicyId = policy.Id, SourcePath = "/srv/" + name, CreatedAt = created, CreatedBy = "Ann",
            LastBackupStatus = last, LatestRecoveryPointAt = points.Length == 0 ? null : points.Max(),
        };
        db.BackupItems.Add(item);
        foreach (var at in points)
            db.RecoveryPoints.Add(new RecoveryPoint
            {
                Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = vault.Id, SnapshotId = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"),
                CreatedAt = at, Bytes = 1000, BytesAdded = 100,
            });
        await db.SaveChangesAsync();
        return item;
    }

    private async Task JobAsync(JobKind kind, JobStatus status, DateTime at, long bytes = 0)
    {
        await using var db = database.Factory.CreateDbContext();
        db.Jobs.Add(new Job { Id = Guid.CreateVersion7(), Kind = kind, Status = status, VaultId = vault.Id, VaultName = vault.Name, QueuedAt = at, HeartbeatAt = at, BytesDone = bytes });
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task Job_success_per_day_includes_today_and_counts_warnings_as_success()
    {
        await JobAsync(JobKind.Backup, JobStatus.Completed, Now.AddDays(-1));
        await JobAsync(JobKind.Backup, JobStatus.Failed, Now.AddDays(-1));
        await JobAsync(JobKind.Backup, JobStatus.CompletedWithWarnings, Now.AddHours(-2));
        await JobAsync(JobKind.Backup, JobStatus.Completed, Now.AddHours(-1));
        await JobAsync(JobKind.Restore, JobStatus.Completed, Now.AddHours(-1), bytes: 5000);
        await JobAsync(JobKind.Backup, JobStatus.Failed, Now.AddDays(-40)); // outside the default range

        var rows = await Reports.JobsPerDayAsync(Reports.DefaultRange());

        var yesterday = rows.Single(r => r.Day == DateOnly.FromDateTime(Now.AddDays(-1)));
        Assert.Equal((JobKind.Backup, 2, 1, 1, 0.5), (yesterday.Kind, yesterday.Total, yesterday.Completed, yesterday.Failed, yesterday.SuccessRate!.Value));
        var today = rows.Single(r => r.Day == DateOnly.FromDateTime(Now) && r.Kind == JobKind.Backup);
        Assert.Equal((2, 1.0), (today.Total, today.SuccessRate!.Value));
        Assert.Equal(3, rows.Count);

        var transfer = await Reports.TransferPerDayAsync(Reports.DefaultRange());
        Assert.Equal(30, transfer.Count);
        Assert.Equal(5000, transfer[^1].RestoredBytes);

        var csv = await ReportExports.WriteAsync(Reports, "jobs", Reports.DefaultRange(), null, default);
        Assert.StartsWith("day,kind,total,completed,completed_with_warnings,failed,cancelled,running,success_rate\r\n", csv);
        Assert.Contains($"{Now.AddDays(-1):yyyy-MM-dd},Backup,2,1,0,1,0,0,0.5\r\n", csv);
    }

    [Fact]
    public async Task Storage_per_day_keeps_the_last_measurement_through_quiet_days()
    {
        await using (var db = database.Factory.CreateDbContext())
        {
            db.StorageUsage.Add(new StorageUsage { VaultId = vault.Id, Region = "east", Day = DateOnly.FromDateTime(Now.AddDays(-10)), Bytes = 100, MeasuredAt = Now.AddDays(-10) });
            db.StorageUsage.Add(new StorageUsage { VaultId = vault.Id, Region = "east", Day = DateOnly.FromDateTime(Now.AddDays(-2)), Bytes = 300, MeasuredAt = Now.AddDays(-2) });
            db.StorageUsage.Add(new StorageUsage { VaultId = vault.Id, Region = "west", Day = DateOnly.FromDateTime(Now), Bytes = 250, MeasuredAt = Now });
            await db.SaveChangesAsync();
        }

        var rows = await Reports.StoragePerDayAsync(ReportRange.Last(5, Now));

        Assert.Equal([100L, 100, 300, 300, 300], rows.Where(r => r.Region == "east").Select(r => r.Bytes));
        Assert.Equal([250L], rows.Where(r => r.Region == "west").Select(r => r.Bytes)); // nothing before its first measurement
        var center = await services.GetRequiredService<BackupCenterService>().SummarizeAsync();
        Assert.Equal([("east", true, 300L), ("west", false, 250L)], center.Storage.Select(s => (s.Region, s.Primary, s.Bytes)));
        var trends = await services.GetRequiredService<BackupCenterService>().TrendsAsync(14);
        Assert.Equal(300, trends.StorageByVault["finance (east)"][^1]);
    }

    [Fact]
    public async Task The_backup_center_lists_the_items_furthest_past_their_rpo_with_their_compliance()
    {
        var daily = Enumerable.Range(0, 40).Select(d => Now.AddDays(-d).AddHours(-1)).ToArray();
        await ItemAsync("fine", Now.AddDays(-60), JobStatus.Completed, daily);
        var late = await ItemAsync("late", Now.AddDays(-60), JobStatus.Completed, [.. daily.Where(p => p < Now.AddDays(-3))]);
        await ItemAsync("failing", Now.AddDays(-60), JobStatus.Failed, daily);

        var center = await services.GetRequiredService<BackupCenterService>().SummarizeAsync();

        Assert.Equal(["late", "failing"], center.NeedsAttention.Select(i => i.Item));
        var row = center.NeedsAttention[0];
        Assert.Equal((ItemHealth.RpoBreached, TimeSpan.FromDays(1)), (row.Health, row.RpoTarget));
        Assert.Equal(TimeSpan.FromDays(3) + TimeSpan.FromHours(1), row.RpoNow);
        // Breached from 30 h after the last point until now: (3 d + 1 h) - 30 h = 43 h of 30 days.
        Assert.Equal(1 - 43.0 / 720, row.Compliance30Days!.Value, precision: 6);

        var breached = await services.GetRequiredService<ProtectionService>().ListAsync(new ItemQuery(Health: ItemHealth.RpoBreached));
        Assert.Equal([late.Id], breached.Items.Select(i => i.Id));
        Assert.Equal(1, breached.TotalCount);
    }

    [Fact]
    public async Task Rpo_compliance_computed_in_postgresql_agrees_with_the_point_by_point_arithmetic()
    {
        // Issue 25: the compliance of every item is now one SQL query (not every point time loaded); it must say what
        // RpoCompliance.Over says, point by point, for each shape of history.
        var limit = TimeSpan.FromHours(30); // DefaultPolicy: daily, 24 h target plus 6 h grace
        var daily = Enumerable.Range(0, 40).Select(d => Now.AddDays(-d).AddHours(-1)).ToArray();
        var cases = new Dictionary<string, (DateTime Created, DateTime[] Points)>
        {
            ["steady"] = (Now.AddDays(-60), daily),
            ["gap"] = (Now.AddDays(-60), [.. daily.Where((_, d) => d is < 10 or > 12)]),
            ["stale"] = (Now.AddDays(-90), [Now.AddDays(-31)]),
            ["never"] = (Now.AddDays(-3), []),
            ["young"] = (Now.AddDays(-5), [Now.AddDays(-4), Now.AddDays(-1).AddHours(-7)]),
            ["just-created"] = (Now, []),
        };
        foreach (var (name, (created, points)) in cases)
            await ItemAsync(name, created, points.Length == 0 ? null : JobStatus.Completed, points);

        var summary = await services.GetRequiredService<ComplianceReport>().SummarizeAsync(rpoHistory: true);

        var byName = summary.Items.ToDictionary(i => i.Item);
        foreach (var (name, (created, points)) in cases)
        {
            var expected = RpoCompliance.Over(points, created, limit, Now);
            var actual = byName[name].RpoCompliance30Days;
            Assert.True(expected is null ? actual is null : actual is { } a && Math.Abs(a - expected.Value) < 1e-6, $"{name}: expected {expected}, got {actual}");
        }

        Assert.Equal(1.0, byName["steady"].RpoCompliance30Days);
        Assert.InRange(byName["gap"].RpoCompliance30Days!.Value, 0.9, 0.95);
        Assert.Null(byName["just-created"].RpoCompliance30Days);
    }

    [Fact]
    public async Task An_item_without_a_recovery_point_is_not_backed_up_yet_everywhere_and_a_warning_once_its_first_backup_time_passed()
    {
        // DefaultPolicy backs up daily at 22:30 UTC; it is 12:00.
        var waiting = await ItemAsync("new", Now.AddHours(-1));                                 // first backup due tonight
        var overdue = await ItemAsync("missed", Now.AddHours(-20));                            // due yesterday 22:30, none made
        var breached = await ItemAsync("forgotten", Now.AddDays(-2));                          // past the 30 h RPO limit
        await ItemAsync("fine", Now.AddDays(-5), JobStatus.Completed, Now.AddHours(-13));

        var protection = services.GetRequiredService<ProtectionService>();
        var list = (await protection.ListAsync(new ItemQuery())).Items.ToDictionary(i => i.Name, i => i.Health);
        Assert.Equal(ItemHealth.NotBackedUpYet, list["new"]);
        Assert.Equal(ItemHealth.FirstBackupOverdue, list["missed"]);
        Assert.Equal(ItemHealth.RpoBreached, list["forgotten"]);
        Assert.Equal(ItemHealth.Healthy, list["fine"]);
        Assert.Equal([waiting.Id], (await protection.ListAsync(new ItemQuery(Health: ItemHealth.NotBackedUpYet))).Items.Select(i => i.Id));

        // The item page: no "0 minutes since the latest point, within target 100 %", but when the first backup is due.
        var details = (await protection.GetAsync(waiting.Id))!;
        Assert.Equal((false, (double?)null, new DateTime(2026, 11, 25, 22, 30, 0, DateTimeKind.Utc)), (details.Rpo!.HasPoint, details.Rpo.Compliance30Days, details.Rpo.FirstBackupDue));
        Assert.Equal(new DateTime(2026, 11, 24, 22, 30, 0, DateTimeKind.Utc), (await protection.GetAsync(overdue.Id))!.Rpo!.FirstBackupDue);

        // The Backup center: the overdue ones need someone, the waiting one is counted apart, not as healthy.
        var center = await services.GetRequiredService<BackupCenterService>().SummarizeAsync();
        Assert.Equal(["forgotten", "missed"], center.NeedsAttention.Select(i => i.Item));
        Assert.Equal(ItemHealth.FirstBackupOverdue, center.NeedsAttention[1].Health);
        Assert.Equal((1, 1, 1, 1), (center.ItemsByHealth[ItemHealth.Healthy], center.ItemsByHealth[ItemHealth.NotBackedUpYet],
            center.ItemsByHealth[ItemHealth.FirstBackupOverdue], center.ItemsByHealth[ItemHealth.RpoBreached]));
        Assert.Equal(breached.Id, center.NeedsAttention[0].ItemId);

        // Reports: of the 4 protected items, 3 have no recovery point.
        var row = Assert.Single(await Reports.ItemsByPolicyAsync());
        Assert.Equal((4, 3), (row.Protected, row.NotBackedUpYet));
        var csv = await ReportExports.WriteAsync(Reports, "policies", Reports.DefaultRange(), null, default);
        Assert.StartsWith("vault,policy,protected,protection_stopped,soft_deleted,not_backed_up_yet\r\nfinance,DefaultPolicy,4,0,0,3\r\n", csv);
    }

    [Fact]
    public async Task A_reversed_range_is_refused_with_what_to_do()
    {
        var e = await Assert.ThrowsAsync<Portal.Features.Common.PortalValidationException>(() =>
            Reports.JobsPerDayAsync(new ReportRange(DateOnly.FromDateTime(Now), DateOnly.FromDateTime(Now.AddDays(-1)))));
        Assert.Contains("pick a start on or before the end", e.Message);
    }
}
