using System.Collections.Immutable;
using Portal.Features.Common;

namespace Portal.Features.Machines;

/// <summary>
/// Tells what happened to a machine (revoked: close its connection, forget its cached identity): at once to this
/// instance's listeners, and to the other instances through <see cref="ClusterSignals"/>, so that the instance holding
/// the machine's connection acts within seconds.
/// </summary>
public sealed class MachineSignals(ClusterSignals? cluster = null)
{
    public const string Channel = "portal_machines";
    private const string RevokedPrefix = "revoked:";
    private readonly Lock gate = new();
    private ImmutableList<Func<Guid, Task>> local = [];

    /// <summary>Hears revocations, this instance's and the others'.</summary>
    public IDisposable OnRevoked(Func<Guid, Task> handler)
    {
        lock (gate)
            local = local.Add(handler);
        var remote = cluster?.Subscribe(Channel, (sender, payload) =>
            sender != cluster.InstanceId && payload.StartsWith(RevokedPrefix, StringComparison.Ordinal) && Guid.TryParse(payload.AsSpan(RevokedPrefix.Length), out var id)
                ? handler(id)
                : Task.CompletedTask); // this instance's own were told locally already
        return new Unsubscriber(() =>
        {
            lock (gate)
                local = local.Remove(handler);
            remote?.Dispose();
        });
    }

    /// <summary>Announces that <paramref name="machineId"/> was revoked (call after the revocation committed).</summary>
    public async Task RevokedAsync(Guid machineId, CancellationToken ct = default)
    {
        foreach (var handler in local)
            await handler(machineId);
        if (cluster is not null)
            await cluster.SendAsync(Channel, RevokedPrefix + machineId.ToString("N"), ct);
    }

}

/// <summary>Authorization policy names of the agents' endpoints.</summary>
public static class MachinePolicies
{
    /// <summary>A registered, unrevoked machine authenticated by the <c>Machine</c> scheme (never a user's cookie).</summary>
    public const string Agent = "Portal.Agent";
}
