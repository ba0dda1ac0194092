namespace Portal.Features.Common;

/// <summary>The loop of the portal's background passes (replication, storage measurement): one pass now, then one per interval.</summary>
public static class Periodic
{
    /// <summary>
    /// Runs <paramref name="pass"/> at once and then every <paramref name="interval"/> until <paramref name="stopping"/>.
    /// A failed pass (the database down, say) is logged and must not stop the portal: the next tick tries again.
    /// </summary>
    public static async Task RunAsync(TimeSpan interval, TimeProvider clock, ILogger logger, string what, Func<CancellationToken, Task> pass, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            try
            {
                await pass(stopping);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "{What} failed; retrying in {Interval}", what, interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stopping));
    }
}
