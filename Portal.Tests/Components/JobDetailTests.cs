using Bunit;
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
}
