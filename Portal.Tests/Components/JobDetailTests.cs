using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Components.Pages.Jobs;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The job page: where a running job is, how fast, when it ends, whether it is stuck; its log; cancel for protectors.</summary>
public sealed class JobDetailTests : PortalComponentTest
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));

    private async Task<Job> StartBackupAsync()
    {
        Context.Services.AddSingleton<TimeProvider>(clock); // after the base class's system clock, so this one wins
        var jobs = Context.Services.GetRequiredService<JobService>();
        var job = await jobs.StartAsync(JobKind.Backup, Guid.NewGuid(), "legal", Guid.NewGuid(), "Contracts", "Carla");
        await jobs.ReportAsync(job.Id, new JobProgressReport("Uploading", 40_000_000, 400_000_000, 10, 25, "2026/invoices/march.pdf", 2_000_000));
        await jobs.LogAsync(job.Id, JobLogLevel.Warning, "Skipped 2026/locked.xlsx: the file is locked by another program.");
        await jobs.LogAsync(job.Id, JobLogLevel.Error, "Could not read 2026/broken.docx: permission denied. Give the portal read access.");
        return job;
    }

    [Fact]
    public async Task A_running_job_shows_its_current_file_rate_eta_highlighted_log_and_a_warning_once_it_stalls()
    {
        var job = await StartBackupAsync();
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        clock.Advance(TimeSpan.FromMinutes(7));
        var page = RenderPage<JobDetail>(p => p.Add(c => c.Id, job.Id));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=job-progress]")));
        Assert.Equal("2026/invoices/march.pdf", page.Find("[data-testid=job-current-path]").TextContent);
        Assert.Equal("2 MB/s", page.Find("[data-testid=job-rate]").TextContent);
        Assert.Equal("about 3 min", page.Find("[data-testid=job-eta]").TextContent); // 360 MB left at 2 MB/s
        Assert.Contains("No progress for 7 minutes", page.Find("[data-testid=job-stalled]").TextContent);
        Assert.Equal(["Warning", "Error"], page.FindAll("[data-testid=job-log-line]").Select(l => l.GetAttribute("data-level")));
        Assert.Contains("mud-error-text", page.FindAll("[data-testid=job-log-line]")[1].ClassName);
        Assert.Empty(page.FindAll("[data-testid=job-cancel]"));
    }

    [Fact]
    public async Task A_job_taken_over_from_a_dead_instance_says_who_runs_it_now_and_which_attempt_it_is()
    {
        Context.Services.AddSingleton<TimeProvider>(clock);
        var jobs = Context.Services.GetRequiredService<JobService>();
        var job = await TestJobs.QueuedAsync(Database, JobKind.Backup, null, null, clock);
        await using (var db = Database.Factory.CreateDbContext())
            await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(j => j.SetProperty(x => x.Operation, "backup"));
        await jobs.ClaimAsync("portal/host-a/101/aaaa", ["backup"], CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(2));
        await jobs.SweepAsync(_ => true);                    // host-a went silent: the job goes back to the queue
        await jobs.ClaimAsync("portal/host-b/202/bbbb", ["backup"], CancellationToken.None);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<JobDetail>(p => p.Add(c => c.Id, job.Id));

        page.WaitForAssertion(() => Assert.Contains("portal/host-b/202/bbbb", page.Find("[data-testid=job-run-by]").TextContent));
        Assert.Contains("attempt 2", page.Find("[data-testid=job-attempt]").TextContent);
        Assert.Contains(page.FindAll("[data-testid=job-log-line]"), l => l.TextContent.Contains("stopped answering") && l.TextContent.Contains("takes it over"));
    }

    [Fact]
    public async Task An_operator_cancels_a_running_job_and_the_page_follows_it_to_cancelling()
    {
        var job = await StartBackupAsync();
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var page = RenderPage<JobDetail>(p => p.Add(c => c.Id, job.Id));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=job-cancel]")));
        Assert.Empty(page.FindAll("[data-testid=job-stalled]"));

        page.Find("[data-testid=job-cancel]").Click();

        page.WaitForAssertion(() => Assert.Equal("Cancelling", page.Find("[data-testid=job-status]").TextContent.Trim()));
        Assert.Empty(page.FindAll("[data-testid=job-cancel]"));
    }

    /// <summary>
    /// Regression: the page's re-read ran inside FinishAsync, so a failing read after "Completed" was saved failed the
    /// backup. Now the job stays Completed, the page keeps following it and says what it could not read.
    /// </summary>
    [Fact]
    public async Task When_the_log_cannot_be_read_as_the_job_finishes_the_job_stays_completed_and_the_page_says_so()
    {
        var job = await StartBackupAsync();
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<JobDetail>(p => p.Add(c => c.Id, job.Id));
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=job-log-line]").Count));
        await using (var db = await Database.Factory.CreateDbContextAsync())
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE job_log RENAME TO job_log_unreadable"); // the database refuses the page's read

        await Context.Services.GetRequiredService<JobService>().FinishAsync(job.Id, JobStatus.Completed, "Backed up 25 files (400 MB).");

        page.WaitForAssertion(() => Assert.Contains("log could not be read again", page.Find("[data-testid=job-error]").TextContent));
        Assert.Equal("Completed", page.Find("[data-testid=job-status]").TextContent.Trim());
        Assert.Equal("Backed up 25 files (400 MB).", page.Find("[data-testid=job-message]").TextContent.Trim());
        var stored = await TestPortal.For(Database, TestUsers.WithRoles("Rita", PortalRoles.Reader)).Jobs().GetAsync(job.Id);
        Assert.Equal((JobStatus.Completed, "Backed up 25 files (400 MB)."), (stored!.Status, stored.Message));
    }

    [Fact]
    public async Task A_finished_job_shows_its_times_to_the_second_its_duration_and_throughput_and_no_phase()
    {
        var job = await StartBackupAsync();
        var jobs = Context.Services.GetRequiredService<JobService>();
        clock.Advance(TimeSpan.FromSeconds(125));
        await jobs.ReportAsync(job.Id, new JobProgressReport("Finishing", 400_000_000, 400_000_000, 25, 25));
        await jobs.FinishAsync(job.Id, JobStatus.Completed, "Backed up 25 files (400 MB).");
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<JobDetail>(p => p.Add(c => c.Id, job.Id));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=job-duration]")));
        Assert.StartsWith("2026-03-02 09:00:00 UTC by Carla", page.Find("[data-testid=job-started]").TextContent);
        Assert.Equal("2026-03-02 09:02:05 UTC", page.Find("[data-testid=job-ended]").TextContent);
        Assert.Equal("2 min 5 s", page.Find("[data-testid=job-duration]").TextContent);
        Assert.Equal("3.2 MB/s (400 MB in 2 min 5 s)", page.Find("[data-testid=job-throughput]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=job-phase]")); // no "Finishing" once completed
        Assert.Equal(2, page.FindAll("[data-testid=job-log-line]").Count);
    }
}
