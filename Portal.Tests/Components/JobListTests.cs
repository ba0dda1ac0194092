using AngleSharp.Dom;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Components.Pages.Jobs;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// The jobs list follows running jobs live: progress goes into the rows on screen without reading the database, and the
/// table is read again (new jobs, a status that moved) at most once a second, however busy the estate.
/// </summary>
public sealed class JobListTests : PortalComponentTest
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
    private int tableLoads;

    /// <summary>The real services on the fake clock, with the list's reads of the jobs table counted.</summary>
    private JobService UseFakeClockAndCountTableLoads()
    {
        Context.Services.AddSingleton<TimeProvider>(clock); // after the base class's system clock, so this one wins
        var counted = new CountingFactory(Database.Factory, () => Interlocked.Increment(ref tableLoads));
        Context.Services.AddScoped(sp => new JobQueries(counted, sp.GetRequiredService<ICurrentUser>(), sp.GetRequiredService<JobService>(), sp.GetRequiredService<AuditLog>()));
        return Context.Services.GetRequiredService<JobService>();
    }

    private static IElement? Row(IRenderedComponent<JobList> page, string subject) =>
        page.FindAll("[data-testid=job-table] tbody tr").FirstOrDefault(r => r.TextContent.Contains(subject));

    private static string Cell(IElement? row, string testId) => row?.QuerySelector($"[data-testid={testId}]")?.TextContent.Trim() ?? "(no row)";

    /// <summary>Regression: the list read its whole table on every progress report (about 4 a second per running job per viewer).</summary>
    [Fact]
    public async Task Ten_progress_reports_in_a_second_show_in_the_row_at_once_and_read_the_table_at_most_once()
    {
        var jobs = UseFakeClockAndCountTableLoads();
        var running = await jobs.StartAsync(JobKind.Backup, Guid.NewGuid(), "finance", Guid.NewGuid(), "Invoices", "Ann");
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<JobList>();
        page.WaitForAssertion(() => Assert.Equal("In progress", Cell(Row(page, "Invoices"), "job-row-status")));
        var loadsBefore = Volatile.Read(ref tableLoads);

        await jobs.StartAsync(JobKind.Backup, Guid.NewGuid(), "legal", Guid.NewGuid(), "Contracts", "Ben"); // belongs in the table
        for (var i = 1; i <= 10; i++)
        {
            await jobs.ReportAsync(running.Id, new JobProgressReport("Uploading", i * 10, 100, i, 10, BytesPerSecond: 2_000_000));
            clock.Advance(TimeSpan.FromMilliseconds(90));
        }

        page.WaitForAssertion(() => Assert.Equal("100% · Uploading · 2 MB/s", Cell(Row(page, "Invoices"), "job-row-progress")));
        Assert.Equal(loadsBefore, Volatile.Read(ref tableLoads)); // 900 ms after the last read: none yet
        Assert.Null(Row(page, "Contracts"));

        clock.Advance(TimeSpan.FromMilliseconds(100)); // a second after the last read
        page.WaitForAssertion(() => Assert.Equal("In progress", Cell(Row(page, "Contracts"), "job-row-status")));
        Assert.Equal(loadsBefore + 1, Volatile.Read(ref tableLoads));
        Assert.Equal("100% · Uploading · 2 MB/s", Cell(Row(page, "Invoices"), "job-row-progress"));
    }

    [Fact]
    public async Task A_job_that_finishes_shows_its_outcome_in_its_row_and_the_table_is_read_again_once_a_second_has_passed()
    {
        var jobs = UseFakeClockAndCountTableLoads();
        var running = await jobs.StartAsync(JobKind.Backup, Guid.NewGuid(), "finance", Guid.NewGuid(), "Invoices", "Ann");
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<JobList>();
        page.WaitForAssertion(() => Assert.Equal("In progress", Cell(Row(page, "Invoices"), "job-row-status")));
        var loadsBefore = Volatile.Read(ref tableLoads);

        await jobs.ReportAsync(running.Id, new JobProgressReport("Uploading", 40, 100, 4, 10));
        await jobs.FinishAsync(running.Id, JobStatus.Completed, "Backed up 10 files.");

        page.WaitForAssertion(() => Assert.Equal(("Completed", "100%"), (Cell(Row(page, "Invoices"), "job-row-status"), Cell(Row(page, "Invoices"), "job-row-progress"))));
        Assert.Equal(loadsBefore, Volatile.Read(ref tableLoads));
        clock.Advance(TimeSpan.FromSeconds(1));
        page.WaitForAssertion(() => Assert.Equal(loadsBefore + 1, Volatile.Read(ref tableLoads)));
    }
}

file sealed class CountingFactory(IDbContextFactory<PortalDbContext> inner, Action counted) : IDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext()
    {
        counted();
        return inner.CreateDbContext();
    }
}
