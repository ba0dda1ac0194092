namespace Portal.Agent.Connection;

/// <summary>
/// How long the agent waits before its next try to reach the portal: 0, 2, 5, 10, 30, 60 seconds, then 60 seconds
/// with up to ±10 seconds of jitter forever (so that machines cut off together do not all come back in one second).
/// </summary>
internal static class Backoff
{
    private static readonly TimeSpan[] Steps = [TimeSpan.Zero, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10),
        TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)];

    /// <summary>The longest wait without jitter.</summary>
    public static TimeSpan Ceiling => Steps[^1];

    /// <summary>The wait before try number <paramref name="retry"/> + 1 (0: the first retry), with <paramref name="jitter"/> in [0, 1).</summary>
    public static TimeSpan Delay(long retry, double jitter)
    {
        if (retry < Steps.Length)
            return Steps[retry];
        return Ceiling + TimeSpan.FromSeconds((jitter * 2 - 1) * 10);
    }

    /// <summary>The wait before try number <paramref name="retry"/> + 1, with random jitter.</summary>
    public static TimeSpan Delay(long retry) => Delay(retry, Random.Shared.NextDouble());
}
