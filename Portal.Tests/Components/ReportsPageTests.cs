using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages.Reports;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

public sealed class ReportsPageTests : ProtectionComponentTest
{
    [Fact]
    public async Task Reports_cover_the_last_30_days_with_today_and_offer_each_as_csv()
    {
        await SeedVaultsAsync(1);
        var jobs = Context.Services.GetRequiredService<JobService>();
        var done = await jobs.StartAsync(JobKind.Backup, null, "vault-001", "share", "portal");
        await jobs.FinishAsync(done.Id, JobStatus.Completed);
        var failed = await jobs.StartAsync(JobKind.Backup, null, "vault-001", "share", "portal");
        await jobs.FinishAsync(failed.Id, JobStatus.Failed, "source missing");
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<ReportsPage>();

        page.WaitForAssertion(() => Assert.Equal("50%", page.Find("[data-testid=report-success-rate]").TextContent));
        var today = DateTime.UtcNow;
        Assert.Equal($"/reports/jobs.csv?from={today.AddDays(-29):yyyy-MM-dd}&to={today:yyyy-MM-dd}",
            page.Find("[data-testid=csv-link]").GetAttribute("href"));
    }
}
