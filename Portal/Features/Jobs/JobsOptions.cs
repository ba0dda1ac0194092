using System.ComponentModel.DataAnnotations;

namespace Portal.Features.Jobs;

/// <summary>The <c>Jobs</c> section: how the portal's instances run jobs and take over each other's.</summary>
public sealed class JobsOptions : IValidatableObject
{
    public const string Section = "Jobs";

    /// <summary>
    /// How many jobs one portal instance runs at once (more wait in the queue for any instance); 0 makes an instance that
    /// serves pages and runs no jobs (the others, or machines, run them).
    /// </summary>
    [Range(0, 64)]
    public int MaxConcurrentJobs { get; set; } = 4;

    /// <summary>How often a running job tells the database it is alive, even when its work is quiet.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A running job silent this long is taken for dead: another instance resumes it (or it is marked failed).</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often each instance looks for silent jobs to take over.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often an idle instance looks for queued jobs (a job queued on this instance starts at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many times a job is started in all before a dying instance makes it fail instead of being resumed.</summary>
    [Range(1, 10)]
    public int MaxAttempts { get; set; } = 3;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (HeartbeatInterval <= TimeSpan.Zero)
            yield return new ValidationResult("Jobs:HeartbeatInterval must be positive, e.g. 00:00:15.", [nameof(HeartbeatInterval)]);
        if (LeaseTimeout < 3 * HeartbeatInterval)
            yield return new ValidationResult(
                $"Jobs:LeaseTimeout ({LeaseTimeout}) must be at least three heartbeats ({3 * HeartbeatInterval}), or a busy instance's jobs are taken from it.",
                [nameof(LeaseTimeout)]);
        if (SweepInterval <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero)
            yield return new ValidationResult("Jobs:SweepInterval and Jobs:PollInterval must be positive.", [nameof(SweepInterval), nameof(PollInterval)]);
    }
}
