using Microsoft.Extensions.Options;

namespace Portal.Features.Jobs.Pipeline;

/// <summary>
/// This instance's executor: claims queued jobs (up to <see cref="JobsOptions.MaxConcurrentJobs"/> at once) and runs
/// them through the <see cref="JobPipeline"/>. It wakes when a job is queued or ends here, and otherwise looks every
/// <see cref="JobsOptions.PollInterval"/>, which is how it hears of jobs queued on other instances and of jobs handed
/// back by the sweep.
/// </summary>
internal sealed class JobDispatcher(JobPipeline pipeline, JobService jobs, IOptions<JobsOptions> options, ILogger<JobDispatcher> logger) : BackgroundService
{
    private readonly List<Task> running = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.MaxConcurrentJobs == 0)
        {
            logger.LogInformation("Jobs:MaxConcurrentJobs is 0: this instance runs no jobs");
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            running.RemoveAll(t => t.IsCompleted);
            try
            {
                while (running.Count < settings.MaxConcurrentJobs
                       && await jobs.ClaimAsync(pipeline.ExecutorId, pipeline.Operations, stoppingToken) is { } claimed)
                    running.Add(Task.Run(() => RunAsync(claimed, stoppingToken), CancellationToken.None));
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Claiming queued jobs failed, trying again in {Interval}: {Reason}", settings.PollInterval, e.Message);
            }

            try
            {
                await pipeline.WaitAsync(settings.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(running); // each hands its job back to the queue (or finishes it) as the instance stops
    }

    private async Task RunAsync(ClaimedJob claimed, CancellationToken stopping)
    {
        if (pipeline.Handler(claimed.Operation) is not { } handler)
        {
            await jobs.FinishAsync(claimed.Lease, JobOutcome.Failed($"This portal cannot run jobs of kind \"{claimed.Operation}\": its version is older than the job's."), CancellationToken.None);
            return;
        }

        try
        {
            await pipeline.ExecuteAsync(handler, claimed, null, stopping);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Job {Job} could not be run", claimed.Lease.JobId);
        }
    }
}

/// <summary>Every <see cref="JobsOptions.SweepInterval"/>, hands on the jobs of executors that went silent (<see cref="JobService.SweepAsync"/>).</summary>
internal sealed class JobSweeper(JobService jobs, JobPipeline pipeline, IOptions<JobsOptions> options, TimeProvider clock, ILogger<JobSweeper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, clock);
        do
        {
            try
            {
                if (await jobs.SweepAsync(pipeline.IsResumable, stoppingToken, pipeline.Interrupted) is > 0 and var count)
                {
                    logger.LogWarning("Handed on {Count} job(s) whose executor stopped answering", count);
                    pipeline.Wake();
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Looking for abandoned jobs failed; trying again in {Interval}", options.Value.SweepInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
