namespace Portal.Features.Jobs;

/// <summary>
/// Passes on at most one progress report per <paramref name="interval"/> (and every report that <paramref name="isFinal"/>
/// says is the last), so that a job's row and its watchers are updated often enough to look live but not per object.
/// </summary>
public sealed class ThrottledProgress<T>(Action<T> report, TimeSpan interval, TimeProvider clock, Func<T, bool>? isFinal = null) : IProgress<T>
{
    private readonly Lock gate = new();
    private long lastTicks = long.MinValue;

    public void Report(T value)
    {
        var now = clock.GetTimestamp();
        lock (gate)
        {
            if (isFinal?.Invoke(value) != true && lastTicks != long.MinValue && clock.GetElapsedTime(lastTicks, now) < interval)
                return;
            lastTicks = now;
        }

        report(value);
    }
}
