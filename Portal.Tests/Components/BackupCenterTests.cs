using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages;
using Portal.Features.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

public sealed class BackupCenterTests : ProtectionComponentTest
{
    [Fact]
    public void With_no_vault_the_first_page_says_to_create_one()
    {
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<Home>();

        page.WaitForAssertion(() => Assert.Contains("Start by creating a vault", page.Find("[data-testid=backup-center-empty]").TextContent));
    }

    [Fact]
    public async Task It_counts_vaults_and_todays_jobs_and_follows_a_job_that_starts_while_it_is_open()
    {
        await SeedVaultsAsync(2);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var jobs = Context.Services.GetRequiredService<JobService>();
        var failed = await jobs.StartAsync(JobKind.Replication, null, "vault-001", "to west", "portal");
        await jobs.FinishAsync(failed.Id, JobStatus.Failed, "unreachable");

        var page = RenderPage<Home>();
        page.WaitForAssertion(() => Assert.Equal("2", page.Find("[data-testid=vault-count]").TextContent));
        Assert.Contains("1 Failed", page.Find("[data-testid=jobs-24h]").TextContent.Replace("\n", " "));

        var running = await jobs.StartAsync(JobKind.Replication, null, "vault-002", "to west", "portal");
        page.WaitForAssertion(() => Assert.Contains("Running now", page.Markup));
        await jobs.ReportAsync(running.Id, "Copying", 500, 1000, 1, 2);
        page.WaitForAssertion(() => Assert.Equal("500 B of 1 KB · 1 of 2 objects", page.Find("[data-testid=job-amounts]").TextContent));
    }

    [Fact]
    public async Task Items_are_counted_by_health_from_their_last_backup_and_policy()
    {
        var vault = await CreateVaultAsync("legal");
        await SeedItemAsync(vault, "never-backed-up", ProtectionState.Protected);          // created two days ago, no point: RPO breached
        await SeedItemAsync(vault, "stopped", ProtectionState.ProtectionStopped);
        var failed = await SeedItemAsync(vault, "failing", ProtectionState.Protected);
        var healthy = await SeedItemAsync(vault, "fine", ProtectionState.Protected);
        await using (var db = Database.Factory.CreateDbContext())
        {
            await db.BackupItems.Where(i => i.Id == failed.Id).ExecuteUpdateAsync(x => x.SetProperty(i => i.LastBackupStatus, JobStatus.Failed));
            await db.BackupItems.Where(i => i.Id == healthy.Id).ExecuteUpdateAsync(x => x
                .SetProperty(i => i.LastBackupStatus, JobStatus.Completed).SetProperty(i => i.LatestRecoveryPointAt, DateTime.UtcNow.AddHours(-1)));
        }

        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<Home>();

        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("[data-testid=items-health]").Count));
        string Count(ItemHealth health) => page.Find($"[data-testid=items-health][data-health={health}] a").TextContent;
        Assert.Equal(["1", "1", "1", "1"], new[] { Count(ItemHealth.Healthy), Count(ItemHealth.RpoBreached), Count(ItemHealth.Failed), Count(ItemHealth.ProtectionStopped) });
        Assert.Contains("RPO breached", page.Find("[data-testid=items-by-health]").TextContent);
    }

    [Fact]
    public async Task Health_counts_link_to_the_filtered_list_and_the_items_past_their_rpo_storage_and_charts_are_shown()
    {
        var vault = await CreateVaultAsync("legal");
        await SeedItemAsync(vault, "never-backed-up", ProtectionState.Protected); // created two days ago, no point: RPO breached
        await using (var db = Database.Factory.CreateDbContext())
        {
            db.StorageUsage.Add(new Portal.Features.Reports.StorageUsage
            {
                VaultId = vault.Id, Region = "east", Day = DateOnly.FromDateTime(DateTime.UtcNow), Bytes = 3_000_000, MeasuredAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<Home>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=attention-row]")));
        Assert.Equal("items?health=RpoBreached", page.Find("[data-testid=items-health][data-health=RpoBreached] a").GetAttribute("href"));
        var row = page.Find("[data-testid=attention-row]");
        Assert.Equal("never-backed-up", row.GetAttribute("data-item"));
        Assert.Contains("RPO breached", row.TextContent);
        Assert.StartsWith("no point yet (protected 2 days", page.Find("[data-testid=attention-rpo]").TextContent);
        Assert.Equal("3 MB", page.Find("[data-testid=storage-row][data-region=east] [data-testid=storage-bytes]").TextContent);
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=chart-storage] svg")));
        Assert.NotEmpty(page.FindAll("[data-testid=chart-job-outcomes] svg"));
    }

    [Fact]
    public async Task A_failed_backup_shows_as_a_critical_active_alert_linking_to_the_alerts()
    {
        var vault = await CreateVaultAsync("legal");
        var item = await SeedItemAsync(vault, "contracts", ProtectionState.Protected);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<Home>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=active-alerts-none]")));

        var jobs = Context.Services.GetRequiredService<JobService>();
        var job = await jobs.StartAsync(JobKind.Backup, vault.Id, vault.Name, item.Id, "contracts", "schedule");
        await jobs.FinishAsync(job.Id, JobStatus.Failed, "The folder /srv/contracts is missing.");

        page.WaitForAssertion(() => Assert.Equal("1", page.Find("[data-testid=active-alerts-count][data-severity=Critical] a").TextContent));
        Assert.Equal("alerts?severity=Critical", page.Find("[data-testid=active-alerts-count][data-severity=Critical] a").GetAttribute("href"));
    }
}
