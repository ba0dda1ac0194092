namespace Portal.Engine.Storage;

/// <summary>
/// A token bucket that paces bytes to a rate which may change over time (read from <c>rateAt</c> on every call).
/// It starts empty and holds at most one second of tokens, so a transfer of N bytes takes N / rate seconds give or
/// take that one second, and an idle spell does not buy a long burst. A caller takes all the tokens it needs at once
/// (the balance goes negative) and then waits for the debt to be repaid; callers are served one at a time in order.
/// Time comes from the <see cref="TimeProvider"/>, waits are <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/>.
/// </summary>
public sealed class TokenBucket(Func<DateTimeOffset, long?> rateAt, TimeProvider? time = null)
{
    private readonly TimeProvider time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim gate = new(1, 1);
    private double tokens;
    private long lastTicks = -1;
    private long? lastRate;

    /// <summary>Waits until <paramref name="bytes"/> may be sent at the rate in force (returns at once when there is no limit).</summary>
    public async ValueTask TakeAsync(long bytes, CancellationToken cancellationToken = default)
    {
        if (bytes <= 0)
            return;
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var rate = rateAt(time.GetUtcNow());
            Refill(rate);
            if (rate is not > 0)
                return;
            tokens -= bytes;
            if (tokens < 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(-tokens / rate.Value), time, cancellationToken).ConfigureAwait(false);
                Refill(rate);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private void Refill(long? rate)
    {
        var now = time.GetTimestamp();
        if (lastTicks >= 0 && rate is > 0 && lastRate is > 0) // time without a limit banks nothing
        {
            var seconds = (now - lastTicks) / (double)time.TimestampFrequency;
            tokens = Math.Min(rate.Value, tokens + seconds * rate.Value); // at most one second's worth banked
        }
        else if (rate is not > 0)
        {
            tokens = 0;
        }

        lastTicks = now;
        lastRate = rate;
    }
}
