using System.Collections.Concurrent;
using Portal.Engine.Replication;

namespace Portal.Features.Replication;

/// <summary>The last replication pass of a GRS vault and how far its secondary is behind.</summary>
public sealed record VaultReplicationState(
    DateTime CheckedAt, ReplicationLag? Lag, string? Error, DateTime? LastSuccessAt, long BytesCopiedLastPass);

/// <summary>Replication state per vault, as the background replication last saw it (kept in memory; rebuilt by the next pass).</summary>
public sealed class ReplicationStatus
{
    private readonly ConcurrentDictionary<Guid, VaultReplicationState> states = new();

    public VaultReplicationState? For(Guid vaultId) => states.GetValueOrDefault(vaultId);

    internal void Set(Guid vaultId, VaultReplicationState state) => states[vaultId] = state;
}
