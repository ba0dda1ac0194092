namespace Portal.Features.Jobs;

/// <summary>What a subscriber of <see cref="JobNotifier"/> hears of: every job, or the jobs of one id, backup item or vault.</summary>
public readonly record struct JobTopic
{
    private enum Scope { All, Job, Item, Vault }

    private readonly Scope scope;
    private readonly Guid id;

    private JobTopic(Scope scope, Guid id) => (this.scope, this.id) = (scope, id);

    /// <summary>Every job (the jobs list, the hub relay, the dashboard).</summary>
    public static JobTopic All { get; } = new(Scope.All, Guid.Empty);

    /// <summary>One job.</summary>
    public static JobTopic OfJob(Guid jobId) => new(Scope.Job, jobId);

    /// <summary>The jobs of one backup item.</summary>
    public static JobTopic OfItem(Guid itemId) => new(Scope.Item, itemId);

    /// <summary>The jobs in one vault.</summary>
    public static JobTopic OfVault(Guid vaultId) => new(Scope.Vault, vaultId);

    /// <summary>The topics a change of <paramref name="job"/> is told to.</summary>
    internal static IEnumerable<JobTopic> Of(Job job)
    {
        yield return All;
        yield return OfJob(job.Id);
        if (job.ItemId is { } item)
            yield return OfItem(item);
        if (job.VaultId is { } vault)
            yield return OfVault(vault);
    }

    public override string ToString() => scope == Scope.All ? "all jobs" : $"{scope.ToString().ToLowerInvariant()} {id}";
}

/// <summary>
/// Tells live pages and relays in this portal instance that a job changed (eShop's OrdersRefreshOnStatusChange pattern).
/// <see cref="Publish"/> never waits on a subscriber: the code that saves a job's state returns at once, so a slow or
/// failing page cannot delay a job or change its outcome. Each subscription has its own queue, delivered in order on
/// the thread pool, one handler call at a time, that keeps only the latest state of each job: a slow page skips the
/// states it had no time for instead of building a backlog, and always gets the last one. A handler's exception is
/// logged (once per subscription) and reaches neither the publisher nor the other subscribers; components route it
/// into their own circuit (<c>DispatchExceptionAsync</c>) or handle it themselves.
/// </summary>
public sealed class JobNotifier(ILogger<JobNotifier>? logger = null)
{
    private readonly ILogger? log = logger;
    private readonly Lock gate = new();
    private readonly Dictionary<JobTopic, Subscription[]> subscriptions = [];

    /// <summary>Calls <paramref name="handler"/> with each change of a job in <paramref name="topic"/>; dispose the result to stop.</summary>
    public IDisposable Subscribe(JobTopic topic, Func<Job, Task> handler)
    {
        var subscription = new Subscription(this, topic, handler);
        lock (gate)
            subscriptions[topic] = subscriptions.TryGetValue(topic, out var existing) ? [.. existing, subscription] : [subscription];
        return subscription;
    }

    /// <summary>
    /// Tells the subscribers of <paramref name="job"/>'s topics that it changed, without waiting for any of them.
    /// Subscribers share this instance: pass a state the caller no longer changes (a freshly saved entity).
    /// </summary>
    public void Publish(Job job)
    {
        foreach (var topic in JobTopic.Of(job))
        {
            Subscription[]? listening;
            lock (gate)
                subscriptions.TryGetValue(topic, out listening);
            foreach (var subscription in listening ?? [])
                subscription.Post(job);
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (gate)
        {
            if (!subscriptions.TryGetValue(subscription.Topic, out var existing))
                return;
            var remaining = Array.FindAll(existing, s => s != subscription);
            if (remaining.Length == 0)
                subscriptions.Remove(subscription.Topic);
            else
                subscriptions[subscription.Topic] = remaining;
        }
    }

    private sealed class Subscription(JobNotifier notifier, JobTopic topic, Func<Job, Task> handler) : IDisposable
    {
        private readonly Lock gate = new();
        private readonly Dictionary<Guid, Job> latest = []; // the newest undelivered state of each job
        private readonly Queue<Guid> order = new();          // jobs in the order their first undelivered change came
        private bool draining, disposed, failedBefore;

        public JobTopic Topic => topic;

        public void Post(Job job)
        {
            lock (gate)
            {
                if (disposed)
                    return;
                if (latest.TryAdd(job.Id, job))
                    order.Enqueue(job.Id);
                else
                    latest[job.Id] = job; // a newer state replaces one not yet delivered
                if (draining)
                    return;
                draining = true;
            }

            // Not in the publisher's execution context: a page's handler must not run inside a runner's activity or culture.
            using (ExecutionContext.SuppressFlow())
                _ = Task.Run(DrainAsync);
        }

        private async Task DrainAsync()
        {
            while (true)
            {
                Job next;
                lock (gate)
                {
                    if (disposed || !order.TryDequeue(out var id))
                    {
                        draining = false;
                        return;
                    }
                    latest.Remove(id, out next!);
                }

                try
                {
                    await handler(next);
                }
                catch (Exception e)
                {
                    Failed(e, next);
                }
            }
        }

        // Once per subscription at error level: a page that fails on every progress report must not flood the log.
        private void Failed(Exception e, Job job)
        {
            var subscriber = handler.Target?.GetType().Name ?? handler.Method.DeclaringType?.Name;
            if (!failedBefore)
            {
                failedBefore = true;
                notifier.log?.LogError(e, "{Subscriber} failed on a change of job {Job} ({Topic}); the job is not affected, later failures of this subscriber are logged at debug level",
                    subscriber, job.Id, topic);
            }
            else
            {
                notifier.log?.LogDebug(e, "{Subscriber} failed again on a change of job {Job}", subscriber, job.Id);
            }
        }

        public void Dispose()
        {
            lock (gate)
            {
                if (disposed)
                    return;
                disposed = true;
                latest.Clear();
                order.Clear();
            }
            notifier.Remove(this);
        }
    }
}
