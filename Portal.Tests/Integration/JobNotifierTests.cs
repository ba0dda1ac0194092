using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>
/// Listeners cannot hurt jobs: the real <see cref="JobService"/> over the test database tells a
/// <see cref="JobNotifier"/> whose subscribers fail, stall or listen to other jobs.
/// </summary>
public sealed class JobNotifierTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly TestDatabase database = new();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly CapturingLogger log = new();
    private JobNotifier notifier = null!;
    private JobService jobs = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        notifier = new JobNotifier(log);
        jobs = new JobService(database.Factory, notifier, new JobCancellation(), clock);
    }

    public Task DisposeAsync() => database.DisposeAsync();

    private Task<Job?> ReadAsync(Guid id) => TestPortal.For(database, TestUsers.WithRoles("Rita", PortalRoles.Reader)).Jobs().GetAsync(id);

    /// <summary>
    /// Regression: a page whose reload threw after "Completed" was saved made FinishAsync throw, and the runner's catch-all
    /// finished the job again as Failed although its recovery point existed.
    /// </summary>
    [Fact]
    public async Task A_subscriber_that_throws_on_every_change_leaves_the_job_completed_with_its_message_and_the_others_informed()
    {
        var thrown = 0;
        var failedOnFinal = NewSignal();
        using var failing = notifier.Subscribe(JobTopic.All, job =>
        {
            Interlocked.Increment(ref thrown);
            if (job.Status.IsFinished())
                failedOnFinal.TrySetResult();
            throw new InvalidOperationException("the page's reload failed");
        });
        var final = new TaskCompletionSource<Job>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var page = notifier.Subscribe(JobTopic.All, job =>
        {
            if (job.Status.IsFinished())
                final.TrySetResult(job);
            return Task.CompletedTask;
        });

        var job = await jobs.StartAsync(JobKind.Backup, null, "finance", "/srv/share", "Ann");
        for (var i = 1; i <= 5; i++)
            Assert.Equal(JobStatus.InProgress, await jobs.ReportAsync(job.Id, new JobProgressReport("Uploading", i * 20, 100, i, 5)));
        await jobs.FinishAsync(job.Id, JobStatus.Completed, "Backed up 5 files (100 B).");

        var heard = await final.Task.WaitAsync(Timeout);
        Assert.Equal((JobStatus.Completed, "Backed up 5 files (100 B)."), (heard.Status, heard.Message));
        var stored = (await ReadAsync(job.Id))!;
        Assert.Equal((JobStatus.Completed, "Backed up 5 files (100 B).", 100L), (stored.Status, stored.Message, stored.BytesDone));
        // logged once for the subscription (the later failures at debug level), however many changes it failed on
        await failedOnFinal.Task.WaitAsync(Timeout);
        await log.WaitForAsync(Volatile.Read(ref thrown));
        Assert.All(log.Entries, e => Assert.IsType<InvalidOperationException>(e.Exception));
        Assert.Single(log.Entries, e => e.Level == LogLevel.Error);
    }

    [Fact]
    public async Task Saving_a_job_never_waits_for_a_subscriber_that_is_stuck()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new ConcurrentQueue<Job>();
        var last = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var job = await jobs.StartAsync(JobKind.Backup, null, "finance", "/srv/share", "Ann");
        using var stuck = notifier.Subscribe(JobTopic.OfJob(job.Id), async changed =>
        {
            await release.Task; // a page whose circuit stopped answering
            seen.Enqueue(changed);
            if (changed.Status.IsFinished())
                last.TrySetResult();
        });

        for (var i = 1; i <= 50; i++)
            await jobs.ReportAsync(job.Id, new JobProgressReport("Uploading", i * 2, 100, i, 50));
        await jobs.FinishAsync(job.Id, JobStatus.Completed, "Backed up 50 files.").WaitAsync(Timeout); // returns while the subscriber waits

        Assert.Equal(JobStatus.Completed, (await ReadAsync(job.Id))!.Status);
        release.SetResult();
        await last.Task.WaitAsync(Timeout);
        // the stuck subscriber gets the state it was in, then only the latest: no backlog of 50 reports
        Assert.InRange(seen.Count, 1, 2);
        Assert.Equal(JobStatus.Completed, seen.Last().Status);
    }

    [Fact]
    public async Task A_subscriber_of_one_job_item_or_vault_hears_only_that_one()
    {
        Guid itemA = Guid.NewGuid(), itemB = Guid.NewGuid(), vaultA = Guid.NewGuid(), vaultB = Guid.NewGuid();
        var b = await jobs.StartAsync(JobKind.Backup, vaultB, "legal", itemB, "Contracts", "Ann");
        var a = await jobs.StartAsync(JobKind.Backup, vaultA, "finance", itemA, "Invoices", "Ann");
        var ofJob = new ConcurrentQueue<Guid>();
        var ofItem = new ConcurrentQueue<Guid>();
        var ofVault = new ConcurrentQueue<Guid>();
        var done = new[] { NewSignal(), NewSignal(), NewSignal() };
        Func<Job, Task> Record(ConcurrentQueue<Guid> into, TaskCompletionSource finished) => job =>
        {
            into.Enqueue(job.Id);
            if (job.Id == a.Id && job.Status.IsFinished())
                finished.TrySetResult();
            return Task.CompletedTask;
        };
        using var s1 = notifier.Subscribe(JobTopic.OfJob(a.Id), Record(ofJob, done[0]));
        using var s2 = notifier.Subscribe(JobTopic.OfItem(itemA), Record(ofItem, done[1]));
        using var s3 = notifier.Subscribe(JobTopic.OfVault(vaultA), Record(ofVault, done[2]));

        await jobs.ReportAsync(b.Id, new JobProgressReport("Uploading", 10, 100, 1, 10));
        await jobs.FinishAsync(b.Id, JobStatus.Failed, "The share is gone.");
        await jobs.FinishAsync(a.Id, JobStatus.Completed);

        // Each subscription is delivered in order: once it heard job A finish, it would have heard job B's earlier changes.
        await Task.WhenAll(done.Select(d => d.Task)).WaitAsync(Timeout);
        Assert.All(new[] { ofJob, ofItem, ofVault }, heard => Assert.Equal([a.Id], heard.Distinct()));
    }

    [Fact]
    public async Task A_disposed_subscription_hears_nothing_more()
    {
        var job = await jobs.StartAsync(JobKind.Backup, null, "finance", "/srv/share", "Ann");
        var heard = new ConcurrentQueue<JobStatus>();
        var subscription = notifier.Subscribe(JobTopic.OfJob(job.Id), changed => { heard.Enqueue(changed.Status); return Task.CompletedTask; });
        subscription.Dispose();
        var still = NewSignal();
        using var other = notifier.Subscribe(JobTopic.OfJob(job.Id), changed => { if (changed.Status.IsFinished()) still.TrySetResult(); return Task.CompletedTask; });

        await jobs.FinishAsync(job.Id, JobStatus.Completed);

        await still.Task.WaitAsync(Timeout);
        Assert.Empty(heard);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class CapturingLogger : ILogger<JobNotifier>
    {
        private readonly SemaphoreSlim logged = new(0);

        public ConcurrentQueue<(LogLevel Level, Exception? Exception)> Entries { get; } = new();

        /// <summary>Waits until <paramref name="count"/> entries were logged.</summary>
        public async Task WaitForAsync(int count)
        {
            while (Entries.Count < count)
                Assert.True(await logged.WaitAsync(Timeout), $"{Entries.Count} of {count} log entries");
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Entries.Enqueue((logLevel, exception));
            logged.Release();
        }
    }
}
