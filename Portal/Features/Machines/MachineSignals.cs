using Portal.Features.Common;

namespace Portal.Features.Machines;

/// <summary>
/// Tells every portal instance what happened to a machine (revoked: close its connection now) through
/// <see cref="ClusterSignals"/>, so that the instance holding the machine's connection acts within seconds.
/// </summary>
public sealed class MachineSignals(ClusterSignals signals)
{
    public const string Channel = "portal_machines";
    private const string RevokedPrefix = "revoked:";

    /// <summary>Hears revocations, this instance's and the others'.</summary>
    public IDisposable OnRevoked(Func<Guid, Task> handler) =>
        signals.Subscribe(Channel, (_, payload) =>
            payload.StartsWith(RevokedPrefix, StringComparison.Ordinal) && Guid.TryParse(payload.AsSpan(RevokedPrefix.Length), out var id)
                ? handler(id)
                : Task.CompletedTask);

    /// <summary>Announces that <paramref name="machineId"/> was revoked (call after the revocation committed).</summary>
    public Task RevokedAsync(Guid machineId, CancellationToken ct = default) => signals.SendAsync(Channel, RevokedPrefix + machineId.ToString("N"), ct);
}

/// <summary>Authorization policy names of the agents' endpoints.</summary>
public static class MachinePolicies
{
    /// <summary>A registered, unrevoked machine authenticated by the <c>Machine</c> scheme (never a user's cookie).</summary>
    public const string Agent = "Portal.Agent";
}
