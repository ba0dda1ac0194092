using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Jobs;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>Two portal instances on one database: a job running on one is watched live on the other, in a page and on the hub.</summary>
public sealed class LiveJobsTests
{
    [Fact]
    public async Task A_job_on_one_instance_shows_live_progress_in_a_page_and_on_the_hub_of_another()
    {
        await using var first = new PortalApp();
        await using var second = new PortalApp(sharedWith: first);
        var jobs = first.Services.GetRequiredService<JobService>();
        var job = await jobs.StartAsync(JobKind.Replication, null, "finance", "to west", "portal");

        await using var browser = await Browser.StartAsync("live-job-across-instances");
        var page = browser.Page;
        await browser.SignInLocallyAsync(second.BaseUrl, "Watcher", $"/jobs/{job.Id}");
        await Expect(page).ToHaveURLAsync(second.BaseUrl + $"/jobs/{job.Id}");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("In progress");

        var cookies = await HttpSignIn.CookiesAsync(second.BaseUrl, "Script");
        await using var hub = new HubConnectionBuilder()
            .WithUrl(second.BaseUrl + JobsHub.Path, options => options.Cookies = cookies)
            .Build();
        var finished = new TaskCompletionSource<JobUpdate>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.On<JobUpdate>(JobsHub.JobChanged, update =>
        {
            if (update.Id == job.Id && update.Status == JobStatus.Completed) finished.TrySetResult(update);
        });
        await hub.StartAsync();

        await jobs.ReportAsync(job.Id, "Copying", 3_000_000, 12_000_000, 2, 8);
        await Expect(page.GetByTestId("job-amounts")).ToHaveTextAsync("3 MB of 12 MB · 2 of 8 objects");
        await browser.ScreenshotAsync("progress-from-the-other-instance");

        await jobs.FinishAsync(job.Id, JobStatus.Completed);
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed");
        var update = await finished.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((12_000_000L, "finance"), (update.BytesDone, update.VaultName));
    }

    [Fact]
    public async Task The_hub_refuses_anonymous_clients()
    {
        await using var app = new PortalApp();
        await using var hub = new HubConnectionBuilder().WithUrl(app.BaseUrl + JobsHub.Path).Build();

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => hub.StartAsync());
    }
}
