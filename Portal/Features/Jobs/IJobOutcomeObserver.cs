namespace Portal.Features.Jobs;

/// <summary>
/// Told each time a job finishes (Completed, CompletedWithWarnings, Failed, Cancelled), after the outcome is saved:
/// alerts are raised and resolved here. An observer's failure is logged and never changes the job.
/// </summary>
public interface IJobOutcomeObserver
{
    Task JobFinishedAsync(Job job, CancellationToken ct);
}
