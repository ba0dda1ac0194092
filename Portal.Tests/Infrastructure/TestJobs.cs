using Portal.Features.Jobs;

namespace Portal.Tests.Infrastructure;

/// <summary>Job rows written straight to the database, for tests that need a job in a given state without running anything.</summary>
public static class TestJobs
{
    /// <summary>A queued job of no pipeline operation: no executor ever claims it, so it stays Queued until cancelled or given up.</summary>
    public static async Task<Job> QueuedAsync(TestDatabase database, JobKind kind, Guid? vaultId, Guid? itemId, TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow().UtcDateTime;
        var job = new Job
        {
            Id = Guid.CreateVersion7(), Kind = kind, Status = JobStatus.Queued, VaultId = vaultId, VaultName = "finance", ItemId = itemId,
            Subject = "share", StartedBy = "Ann", QueuedAt = now, HeartbeatAt = now,
        };
        await using var db = database.Factory.CreateDbContext();
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job;
    }
}
