using System.Collections.Concurrent;

namespace Portal.Features.Jobs;

/// <summary>
/// The cancellation tokens of the jobs running in this portal instance. A cancel asked here cancels at once; one
/// asked on another instance arrives as a job change (Cancelling) through <see cref="JobChangeListener"/>, and the
/// runner's own progress reports see the status too.
/// </summary>
public sealed class JobCancellation
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> running = new();

    /// <summary>Registers a running job; dispose the result when the job ends.</summary>
    public Registration Register(Guid jobId, CancellationToken stopping)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        running[jobId] = source;
        return new Registration(this, jobId, source);
    }

    /// <summary>Cancels the job if it runs here.</summary>
    public void Cancel(Guid jobId)
    {
        if (running.TryGetValue(jobId, out var source))
        {
            try { source.Cancel(); }
            catch (ObjectDisposedException) { } // it ended meanwhile
        }
    }

    public sealed class Registration(JobCancellation owner, Guid jobId, CancellationTokenSource source) : IDisposable
    {
        /// <summary>Cancelled when a user cancels the job or the portal stops.</summary>
        public CancellationToken Token { get; } = source.Token;

        /// <summary>Set when the job was taken over by another executor (or finished elsewhere): this run must not finish it.</summary>
        public bool Lost { get; private set; }

        /// <summary>Stops this run because the job is no longer its own.</summary>
        public void Lose()
        {
            Lost = true;
            Cancel();
        }

        /// <summary>Cancels the job (a cancel asked on another portal instance, seen in a progress report).</summary>
        public void Cancel()
        {
            try { source.Cancel(); }
            catch (ObjectDisposedException) { }
        }

        public void Dispose()
        {
            owner.running.TryRemove(new KeyValuePair<Guid, CancellationTokenSource>(jobId, source));
            source.Dispose();
        }
    }
}
