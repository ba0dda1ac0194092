namespace Portal.Features.Machines;

/// <summary>
/// Tells every portal instance what happened to a machine (revoked: close its connection now), through PostgreSQL NOTIFY,
/// so that the instance holding the machine's connection acts within seconds.
/// </summary>
public sealed class MachineSignals
{
    private event Func<Guid, Task>? Revoked;

    /// <summary>Hears revocations (this instance's and, through NOTIFY, the others').</summary>
    public IDisposable OnRevoked(Func<Guid, Task> handler)
    {
        Revoked += handler;
        return new Subscription(() => Revoked -= handler);
    }

    /// <summary>Announces that <paramref name="machineId"/> was revoked (call after the revocation committed).</summary>
    public async Task RevokedAsync(Guid machineId, CancellationToken ct = default)
    {
        if (Revoked is { } handlers)
            foreach (var handler in handlers.GetInvocationList().Cast<Func<Guid, Task>>())
                await handler(machineId);
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}

/// <summary>Authorization policy names of the agents' endpoints.</summary>
public static class MachinePolicies
{
    /// <summary>A registered, unrevoked machine authenticated by the <c>Machine</c> scheme (never a user's cookie).</summary>
    public const string Agent = "Portal.Agent";
}
