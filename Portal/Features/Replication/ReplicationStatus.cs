using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Portal.Engine.Replication;

namespace Portal.Features.Replication;

/// <summary>The last replication pass of a GRS vault and how far its secondary is behind.</summary>
public sealed record VaultReplicationState(
    DateTime CheckedAt, ReplicationLag? Lag, string? Error, DateTime? LastSuccessAt, long BytesCopiedLastPass);

/// <summary>Replication state per vault, as the background replication last saw it (kept in memory; rebuilt by the next pass).</summary>
public sealed class ReplicationStatus
{
    private readonly ConcurrentDictionary<Guid, VaultReplicationState> states = new();

    public ReplicationStatus()
    {
    }

    /// <summary>With a meter factory, the lag of every GRS vault is observable as metrics (objects and bytes not yet in the paired region).</summary>
    public ReplicationStatus(IMeterFactory meters)
    {
        var meter = meters.Create(Telemetry.PortalTelemetry.Name);
        meter.CreateObservableGauge("portal.replication.lag.objects", () => Observe(l => l.Objects), "{object}",
            "Objects of a GRS vault not yet copied to its paired region.");
        meter.CreateObservableGauge("portal.replication.lag.bytes", () => Observe(l => l.Bytes), "By",
            "Bytes of a GRS vault not yet copied to its paired region.");
        meter.CreateObservableGauge("portal.replication.lag.age", () => states.Where(s => s.Value.Lag?.OldestUnreplicatedRecoveryPoint is not null)
                .Select(s => new Measurement<double>(s.Value.Lag!.OldestUnreplicatedRecoveryPoint!.Value.TotalSeconds, new KeyValuePair<string, object?>("vault_id", s.Key))),
            "s", "Age of the oldest recovery point of a GRS vault not yet complete in its paired region.");
    }

    private IEnumerable<Measurement<long>> Observe(Func<ReplicationLag, long> value) =>
        states.Where(s => s.Value.Lag is not null)
            .Select(s => new Measurement<long>(value(s.Value.Lag!), new KeyValuePair<string, object?>("vault_id", s.Key)));

    public VaultReplicationState? For(Guid vaultId) => states.GetValueOrDefault(vaultId);

    internal void Set(Guid vaultId, VaultReplicationState state) => states[vaultId] = state;

    internal void Remove(Guid vaultId) => states.TryRemove(vaultId, out _);
}
