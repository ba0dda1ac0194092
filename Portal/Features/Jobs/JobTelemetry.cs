using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Portal.Features.Telemetry;

namespace Portal.Features.Jobs;

/// <summary>
/// The jobs' metrics and traces on the portal's meter and activity source: jobs started and finished by kind and status,
/// bytes backed up, restore durations, and one trace span per job from start to end.
/// </summary>
public static class JobTelemetry
{
    private static readonly Counter<long> JobsStarted = PortalTelemetry.Meter.CreateCounter<long>("portal.jobs.started", "{job}", "Jobs that began to run.");
    private static readonly Counter<long> JobsFinished = PortalTelemetry.Meter.CreateCounter<long>("portal.jobs.finished", "{job}", "Jobs that ended, by status (Completed, CompletedWithWarnings, Failed, Cancelled).");
    private static readonly Counter<long> BytesBackedUp = PortalTelemetry.Meter.CreateCounter<long>("portal.backup.bytes", "By", "Bytes read from backup items by completed backups.");
    private static readonly Histogram<double> RestoreDuration = PortalTelemetry.Meter.CreateHistogram<double>("portal.restore.duration", "s", "How long restores and downloads took.");

    private static readonly ConcurrentDictionary<Guid, Activity> Running = new();

    public static void Started(Job job)
    {
        JobsStarted.Add(1, Tags(job));
        // A span per job; it is not made current (the job runs in its own async flow), it only times and describes the job.
        var previous = Activity.Current;
        var activity = PortalTelemetry.Source.StartActivity($"{job.Kind} job", ActivityKind.Internal);
        Activity.Current = previous;
        if (activity is null)
            return;
        activity.SetTag("portal.job.id", job.Id);
        activity.SetTag("portal.job.kind", job.Kind.ToString());
        activity.SetTag("portal.vault", job.VaultName);
        activity.SetTag("portal.job.subject", job.Subject);
        Running[job.Id] = activity;
    }

    public static void Finished(Job job)
    {
        var tags = Tags(job);
        tags.Add("status", job.Status.ToString());
        JobsFinished.Add(1, tags);
        if (job.Kind == JobKind.Backup && job.Status is JobStatus.Completed or JobStatus.CompletedWithWarnings)
            BytesBackedUp.Add(job.BytesDone, Tags(job));
        if (job.Kind == JobKind.Restore && job.StartedAt is { } started && job.EndedAt is { } ended)
            RestoreDuration.Record((ended - started).TotalSeconds, tags);

        if (Running.TryRemove(job.Id, out var activity))
        {
            activity.SetTag("portal.job.status", job.Status.ToString());
            activity.SetTag("portal.job.bytes", job.BytesDone);
            if (job.Status == JobStatus.Failed)
                activity.SetStatus(ActivityStatusCode.Error, job.Message);
            activity.Stop();
        }
    }

    private static TagList Tags(Job job) => new() { { "kind", job.Kind.ToString() }, { "vault", job.VaultName } };
}
