using Microsoft.Extensions.Time.Testing;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

public sealed class JobServiceTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private JobService jobs = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        jobs = new JobService(database.Factory, new JobNotifier(), new JobCancellation(), clock);
    }

    public Task DisposeAsync() => database.DisposeAsync();

    private Task<Job?> ReadAsync(Guid id) => TestPortal.For(database, TestUsers.WithRoles("Rita", PortalRoles.Reader)).Jobs().GetAsync(id);

    [Fact]
    public async Task A_job_records_progress_and_its_outcome_and_a_late_report_does_not_reopen_it()
    {
        var job = await jobs.StartAsync(JobKind.Replication, null, "finance", "to west", "portal");

        await jobs.ReportAsync(job.Id, "Copying", 40, 100, 2, 5);
        Assert.Equal(("Copying", 40L, 100L, JobStatus.InProgress), ((await ReadAsync(job.Id))!.Phase, (await ReadAsync(job.Id))!.BytesDone, (await ReadAsync(job.Id))!.BytesTotal!.Value, (await ReadAsync(job.Id))!.Status));

        clock.Advance(TimeSpan.FromSeconds(30));
        await jobs.FinishAsync(job.Id, JobStatus.Completed);
        await jobs.ReportAsync(job.Id, "Copying", 50, 100, 3, 5);

        var done = (await ReadAsync(job.Id))!;
        Assert.Equal((JobStatus.Completed, 100L), (done.Status, done.BytesDone));
        Assert.Equal(clock.GetUtcNow().UtcDateTime, done.EndedAt);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => jobs.FinishAsync(job.Id, JobStatus.InProgress));
    }

    [Fact]
    public async Task A_job_whose_portal_instance_went_silent_is_marked_failed_with_what_to_do()
    {
        var silent = await jobs.StartAsync(JobKind.Backup, null, "finance", "/srv/share", "Ann");
        clock.Advance(TimeSpan.FromMinutes(1));
        var alive = await jobs.StartAsync(JobKind.Backup, null, "finance", "/srv/other", "Ann");
        clock.Advance(TimeSpan.FromSeconds(90));
        await jobs.ReportAsync(alive.Id, "Reading", 1, null, 1, null);

        Assert.Equal(1, await jobs.SweepAsync());

        var failed = (await ReadAsync(silent.Id))!;
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Contains("stopped answering", failed.Message);
        Assert.Contains("reuses everything the interrupted one uploaded", failed.Message);
        Assert.Equal(JobStatus.InProgress, (await ReadAsync(alive.Id))!.Status);
    }

    [Fact]
    public async Task A_queued_job_waiting_behind_a_long_backup_is_not_taken_for_dead_but_one_never_started_in_a_day_is()
    {
        var waiting = await TestJobs.QueuedAsync(database, JobKind.Backup, null, null, clock);
        clock.Advance(TimeSpan.FromHours(3));
        Assert.Equal(0, await jobs.SweepAsync());
        Assert.Equal(JobStatus.Queued, (await ReadAsync(waiting.Id))!.Status);

        clock.Advance(TimeSpan.FromHours(22));
        Assert.Equal(1, await jobs.SweepAsync());
        var failed = (await ReadAsync(waiting.Id))!;
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Contains("never started", failed.Message);
    }

    [Fact]
    public async Task Jobs_are_listed_newest_first_with_filters()
    {
        await jobs.StartAsync(JobKind.Replication, null, "a", "to west", "portal");
        clock.Advance(TimeSpan.FromMinutes(1));
        var backup = await jobs.StartAsync(JobKind.Backup, null, "b", "/srv", "Ann");
        await jobs.FinishAsync(backup.Id, JobStatus.Failed, "disk full");
        var queries = TestPortal.For(database, TestUsers.WithRoles("Hana", PortalRoles.RestoreOperator)).Jobs();

        Assert.Equal(["b", "a"], (await queries.ListAsync(new JobQuery())).Items.Select(j => j.VaultName));
        Assert.Equal(["b"], (await queries.ListAsync(new JobQuery(Status: JobStatus.Failed))).Items.Select(j => j.VaultName));
        Assert.Equal(["a"], (await queries.ListAsync(new JobQuery(Kind: JobKind.Replication))).Items.Select(j => j.VaultName));
    }
}
