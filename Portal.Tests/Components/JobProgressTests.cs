using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Shared;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The progress component follows a running job live, without a reload.</summary>
public sealed class JobProgressTests : PortalComponentTest
{
    [Fact]
    public async Task It_renders_each_progress_report_and_the_outcome_as_they_happen()
    {
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var jobs = Context.Services.GetRequiredService<JobService>();
        var job = await jobs.StartAsync(JobKind.Replication, null, "finance", "to west", "portal");
        var view = RenderPage<JobProgress>(p => p.Add(c => c.Job, job));
        Assert.Equal("In progress", view.Find("[data-testid=job-status]").TextContent.Trim());

        await jobs.ReportAsync(job.Id, "Copying", 3_000_000, 12_000_000, 2, 8);
        view.WaitForAssertion(() => Assert.Equal("3 MB of 12 MB · 2 of 8 objects", view.Find("[data-testid=job-amounts]").TextContent));
        var bar = view.Find("[role=progressbar]");
        Assert.True(bar.GetAttribute("aria-valuenow") == "25", bar.OuterHtml);

        await jobs.FinishAsync(job.Id, JobStatus.Failed, "The paired region could not be reached.");
        view.WaitForAssertion(() => Assert.Equal("Failed", view.Find("[data-testid=job-status]").TextContent.Trim()));
        Assert.Equal("The paired region could not be reached.", view.Find("[data-testid=job-message]").TextContent.Trim());
    }
}
