using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

public sealed class BackupCenterTests : PortalComponentTest
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
}
