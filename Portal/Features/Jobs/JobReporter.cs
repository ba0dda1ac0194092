namespace Portal.Features.Jobs;

/// <summary>
/// Progress of one running job, written one report at a time: a report that arrives while the previous one is
/// being saved replaces any waiting one (only the latest matters), and <see cref="FlushAsync"/> waits for the
/// last write, so that finishing the job never races a progress update.
/// </summary>
public sealed class JobReporter<T>(Func<T, Task> write) : IProgress<T>
{
    private readonly Lock gate = new();
    private T? waiting;
    private bool hasWaiting;
    private Task pump = Task.CompletedTask;

    public void Report(T value)
    {
        lock (gate)
        {
            waiting = value;
            hasWaiting = true;
            if (pump.IsCompleted)
                pump = PumpAsync();
        }
    }

    /// <summary>Waits until every report so far is written.</summary>
    public Task FlushAsync()
    {
        lock (gate)
            return pump;
    }

    private async Task PumpAsync()
    {
        await Task.Yield();
        while (true)
        {
            T value;
            lock (gate)
            {
                if (!hasWaiting)
                    return;
                value = waiting!;
                hasWaiting = false;
            }

            await write(value);
        }
    }
}
