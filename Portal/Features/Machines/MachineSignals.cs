using System.Collections.Immutable;
using Portal.Features.Common;

namespace Portal.Features.Machines;

/// <summary>
/// Tells what happened to a machine (revoked: close its connection, forget its cached identity; its settings changed:
/// send them to its agent): at once to this instance's listeners, and to the other instances through
/// <see cref="ClusterSignals"/>, so that the instance holding the machine's connection acts within seconds.
/// </summary>
public sealed class MachineSignals(ClusterSignals? cluster = null)
{
    public const string Channel = "portal_machines";
    private const string RevokedPrefix = "revoked:";
    private const string SettingsPrefix = "settings:";
    private readonly Lock gate = new();
    private ImmutableList<(string Prefix, Func<Guid, Task> Handler)> local = [];

    /// <summary>Hears revocations, this instance's and the others'.</summary>
    public IDisposable OnRevoked(Func<Guid, Task> handler) => On(RevokedPrefix, handler);

    /// <summary>Announces that <paramref name="machineId"/> was revoked (call after the revocation committed).</summary>
    public Task RevokedAsync(Guid machineId, CancellationToken ct = default) => SendAsync(RevokedPrefix, machineId, ct);

    /// <summary>Hears that a machine's settings (its upload limits) changed, on this instance or another.</summary>
    public IDisposable OnSettingsChanged(Func<Guid, Task> handler) => On(SettingsPrefix, handler);

    /// <summary>Announces that the settings of <paramref name="machineId"/> changed (call after the change committed).</summary>
    public Task SettingsChangedAsync(Guid machineId, CancellationToken ct = default) => SendAsync(SettingsPrefix, machineId, ct);

    private IDisposable On(string prefix, Func<Guid, Task> handler)
    {
        var entry = (prefix, handler);
        lock (gate)
            local = local.Add(entry);
        var remote = cluster?.Subscribe(Channel, (sender, payload) =>
            sender != cluster.InstanceId && payload.StartsWith(prefix, StringComparison.Ordinal) && Guid.TryParse(payload.AsSpan(prefix.Length), out var id)
                ? handler(id)
                : Task.CompletedTask); // this instance's own were told locally already
        return new Unsubscriber(() =>
        {
            lock (gate)
                local = local.Remove(entry);
            remote?.Dispose();
        });
    }

    private async Task SendAsync(string prefix, Guid machineId, CancellationToken ct)
    {
        foreach (var (p, handler) in local)
            if (p == prefix)
                await handler(machineId);
        if (cluster is not null)
            await cluster.SendAsync(Channel, prefix + machineId.ToString("N"), ct);
    }
}

/// <summary>Authorization policy names of the agents' endpoints.</summary>
public static class MachinePolicies
{
    /// <summary>A registered, unrevoked machine authenticated by the <c>Machine</c> scheme (never a user's cookie).</summary>
    public const string Agent = "Portal.Agent";
}
