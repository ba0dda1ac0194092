using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages;
using Portal.Components.Pages.Items;
using Portal.Components.Pages.Jobs;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// Where a failed job is listed (the Backup center, the item page) it shows what its log ended with, and a failed
/// backup has Retry for those who may back up; the job page's title says the kind in words.
/// </summary>
public sealed class FailedJobTests : ProtectionComponentTest
{
    private async Task<(BackupItem Item, Job Job)> FailedBackupAsync()
    {
        var vault = await CreateVaultAsync("legal");
        var item = await SeedItemAsync(vault, "contracts", ProtectionState.Protected);
        var jobs = Context.Services.GetRequiredService<JobService>();
        var job = await jobs.StartAsync(JobKind.Backup, vault.Id, "legal", item.Id, "contracts", "Carla");
        await jobs.LogAsync(job.Id, JobLogLevel.Info, ["Opened the vault.", "Scanning /srv/contracts.", "Read 12 files."]);
        await jobs.LogAsync(job.Id, JobLogLevel.Error, "The folder /srv/contracts/2026 could not be read: permission denied. Give the portal read access.");
        await jobs.FinishAsync(job.Id, JobStatus.Failed, "The backup failed: a folder could not be read.");
        return (item, job);
    }

    [Fact]
    public async Task The_backup_center_lists_a_failed_backup_with_the_last_lines_of_its_log_and_retry_queues_it_again()
    {
        var (item, failed) = await FailedBackupAsync();
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));

        var page = RenderPage<Home>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=failed-job-line]").Count));
        var lines = page.FindAll("[data-testid=failed-job-line]").Select(l => l.TextContent).ToList();
        Assert.Contains("Scanning /srv/contracts.", lines[0]); // the last three lines, not the first
        Assert.Contains("permission denied. Give the portal read access.", lines[2]);
        Assert.Contains("Backup · legal · contracts", page.Find("[data-testid=failed-jobs]").TextContent);

        await ClickAsync(page, "[data-testid=job-retry]");

        page.WaitForAssertion(() => Assert.Matches("/jobs/[0-9a-f-]{36}$", Context.Services.GetRequiredService<NavigationManager>().Uri));
        await using var db = Database.Factory.CreateDbContext();
        var retry = await db.Jobs.SingleAsync(j => j.ItemId == item.Id && j.Id != failed.Id);
        Assert.Equal((JobKind.Backup, JobStatus.Queued, "Olga"), (retry.Kind, retry.Status, retry.StartedBy));
        Assert.EndsWith($"/jobs/{retry.Id}", Context.Services.GetRequiredService<NavigationManager>().Uri);
    }

    [Fact]
    public async Task A_reader_sees_the_excerpt_on_the_item_page_but_no_retry()
    {
        var (item, _) = await FailedBackupAsync();
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<ItemDetail>(p => p.Add(c => c.Id, item.Id));

        page.WaitForAssertion(() => Assert.Contains("permission denied", page.Find("[data-testid=item-jobs] [data-testid=failed-job-excerpt]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=job-retry]"));
    }

    [Fact]
    public async Task The_job_page_of_a_failed_backup_titles_its_kind_in_words_and_offers_retry_to_an_operator()
    {
        var (_, failed) = await FailedBackupAsync();
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));

        var page = RenderPage<JobDetail>(p => p.Add(c => c.Id, failed.Id));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=job-retry]")));
        Assert.Contains("Backup · legal · contracts", page.Find("h1").TextContent);
    }

    [Fact]
    public async Task The_job_page_of_a_failed_restore_offers_retry_to_a_restore_operator_but_not_to_a_reader_and_a_download_has_none()
    {
        var vault = await CreateVaultAsync("legal");
        var item = await SeedItemAsync(vault, "contracts", ProtectionState.Protected);
        Guid restore;
        await using (var db = Database.Factory.CreateDbContext())
        {
            var request = new Portal.Features.Restore.FileRestoreRequest(item.Id, Guid.NewGuid(), ["a.txt"], Portal.Features.Restore.RestoreDestination.OriginalLocation,
                null, Portal.Features.Restore.RestoreConflictOption.CreateCopy);
            var failed = new Job
            {
                Id = Guid.CreateVersion7(), Kind = JobKind.Restore, Status = JobStatus.Failed, VaultId = vault.Id, VaultName = "legal", ItemId = item.Id,
                Subject = "contracts → /srv/contracts", StartedBy = "Helen", QueuedAt = DateTime.UtcNow, HeartbeatAt = DateTime.UtcNow, Operation = "restore-files",
                Input = Portal.Features.Jobs.Pipeline.JobHandler<Portal.Features.Restore.FileRestoreInput>.Serialize(new(request, "/srv/contracts", 10)),
            };
            db.Jobs.Add(failed);
            await db.SaveChangesAsync();
            restore = failed.Id;
        }

        SignIn(TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator));
        var page = RenderPage<JobDetail>(p => p.Add(c => c.Id, restore));
        page.WaitForAssertion(() => Assert.Equal("Retry this restore", page.Find("[data-testid=job-retry]").TextContent.Trim()));
    }

    [Fact]
    public async Task A_failed_download_has_no_retry_it_is_started_again_from_restore_files()
    {
        var vault = await CreateVaultAsync("legal");
        var item = await SeedItemAsync(vault, "contracts", ProtectionState.Protected);
        var jobs = Context.Services.GetRequiredService<JobService>();
        var zip = await jobs.StartAsync(JobKind.Restore, vault.Id, "legal", item.Id, "contracts: download docs", "Helen");
        await jobs.FinishAsync(zip.Id, JobStatus.Failed, "The download was interrupted.");

        SignIn(TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator));
        var page = RenderPage<JobDetail>(p => p.Add(c => c.Id, zip.Id));
        page.WaitForAssertion(() => Assert.Contains("Restore", page.Find("h1").TextContent));
        Assert.Empty(page.FindAll("[data-testid=job-retry]"));
    }

    [Fact]
    public async Task A_reader_is_not_offered_retry_of_a_failed_restore()
    {
        var vault = await CreateVaultAsync("legal");
        var item = await SeedItemAsync(vault, "contracts", ProtectionState.Protected);
        var failed = new Job
        {
            Id = Guid.CreateVersion7(), Kind = JobKind.Restore, Status = JobStatus.Failed, VaultId = vault.Id, VaultName = "legal", ItemId = item.Id,
            Subject = "contracts → /srv/contracts", StartedBy = "Helen", QueuedAt = DateTime.UtcNow, HeartbeatAt = DateTime.UtcNow, Operation = "restore-files", Input = "{}",
        };
        await using (var db = Database.Factory.CreateDbContext())
        {
            db.Jobs.Add(failed);
            await db.SaveChangesAsync();
        }

        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<JobDetail>(p => p.Add(c => c.Id, failed.Id));
        page.WaitForAssertion(() => Assert.Contains("Restore", page.Find("h1").TextContent));
        Assert.Empty(page.FindAll("[data-testid=job-retry]"));
    }
}
