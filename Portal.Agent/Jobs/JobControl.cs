using Portal.Engine.Agents;
using Portal.Engine.Progress;

namespace Portal.Agent.Jobs;

/// <summary>
/// A running job's line to the portal: sends progress at most every <c>interval</c> (and a heartbeat every
/// <c>heartbeat</c> when nothing moved, so a long script does not look like a dead machine), and turns the portal's
/// answers into cancellation: <see cref="AgentControl.Cancel"/> (finish as Cancelled) or <see cref="AgentControl.Lost"/>
/// (stop without finishing). Engine reports come from worker threads and never wait for the network.
/// </summary>
internal sealed class JobControl : IProgress<OperationProgress>, IAsyncDisposable
{
    private readonly IJobChannel channel;
    private readonly CancellationTokenSource cancel;
    private readonly TimeProvider time;
    private readonly TimeSpan heartbeat;
    private readonly PeriodicTimer timer;
    private readonly Task loop;
    private readonly long started;
    private AgentProgress latest = new("Starting", 0, null, 0, null);
    private long version;
    private long sentVersion = -1;
    private long lastSent;
    private int answer = (int)AgentControl.Continue;

    /// <summary>Starts the pump; <paramref name="cancel"/> is cancelled when the portal says Cancel or Lost.</summary>
    public JobControl(IJobChannel channel, CancellationTokenSource cancel, TimeProvider? time = null, TimeSpan? interval = null, TimeSpan? heartbeat = null)
    {
        this.channel = channel;
        this.cancel = cancel;
        this.time = time ?? TimeProvider.System;
        this.heartbeat = heartbeat ?? TimeSpan.FromSeconds(15);
        started = this.time.GetTimestamp();
        timer = new PeriodicTimer(interval ?? TimeSpan.FromMilliseconds(250), this.time);
        loop = Task.Run(LoopAsync);
    }

    /// <summary>What the portal answered last that stops the job (Continue while none did).</summary>
    public AgentControl Answer => (AgentControl)Volatile.Read(ref answer);

    /// <summary>Sends the current progress now and applies the answer (the first report of a job, and its final one).</summary>
    public async Task SendNowAsync()
    {
        var (progress, v) = Snapshot();
        await SendAsync(progress, v);
    }

    /// <summary>Says what the job does now (a script runs, the repository opens), keeping the counters.</summary>
    public void Phase(string phase)
    {
        lock (this) latest = latest with { Phase = phase, CurrentPath = null };
        Interlocked.Increment(ref version);
    }

    /// <inheritdoc />
    public void Report(OperationProgress value)
    {
        var seconds = time.GetElapsedTime(started).TotalSeconds;
        var progress = new AgentProgress(value.Phase.ToString(), value.BytesDone, value.BytesTotal > 0 ? value.BytesTotal : null, value.FilesDone,
            value.FilesTotal > 0 ? value.FilesTotal : null, value.CurrentPath, seconds > 1 ? value.BytesDone / seconds : null);
        lock (this) latest = progress;
        Interlocked.Increment(ref version);
    }

    private (AgentProgress, long) Snapshot()
    {
        lock (this) return (latest, Interlocked.Read(ref version));
    }

    private async Task LoopAsync()
    {
        try
        {
            while (await timer.WaitForNextTickAsync())
            {
                var (progress, v) = Snapshot();
                if (v != Interlocked.Read(ref sentVersion) || time.GetElapsedTime(Interlocked.Read(ref lastSent)) >= heartbeat)
                    await SendAsync(progress, v);
            }
        }
        catch (ObjectDisposedException)
        {
            // stopped
        }
    }

    private async Task SendAsync(AgentProgress progress, long v)
    {
        AgentControl control;
        try
        {
            control = await channel.ReportAsync(progress, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return; // a report that cannot be delivered is dropped; the next one carries the news
        }

        Interlocked.Exchange(ref sentVersion, v);
        Interlocked.Exchange(ref lastSent, time.GetTimestamp());
        if (control == AgentControl.Continue)
            return;
        Interlocked.CompareExchange(ref answer, (int)control, (int)AgentControl.Continue);
        try
        {
            await cancel.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // the job is over
        }
    }

    /// <summary>Stops the pump (no report is sent after it).</summary>
    public async ValueTask DisposeAsync()
    {
        timer.Dispose();
        await loop;
    }
}
