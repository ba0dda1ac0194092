using System.Collections.Concurrent;

namespace Portal.Engine.Replication;

/// <summary>
/// Where a <see cref="ReplicatedStore"/> writes down the copies it knows are missing or damaged (a degraded put, a bad
/// copy found by a read, a heal that failed), so that <see cref="ReplicatedStore.RepairPendingAsync"/> can write them
/// later. A durable journal (the portal keeps one in its database) survives a restart; the default
/// <see cref="InMemoryRepairJournal"/> does not, and then only <see cref="ReplicatedStore.ScrubAsync"/> finds the copies.
/// </summary>
/// <remarks>Replica numbers start at 0. Calls may come concurrently from parallel puts and reads.</remarks>
public interface IRepairJournal
{
    /// <summary>Records that <paramref name="replica"/>'s copy of <paramref name="name"/> needs repair. Recording it
    /// again keeps the first reason and when it was first seen.</summary>
    Task RecordAsync(string name, int replica, string reason, CancellationToken cancellationToken = default);

    /// <summary>A repair of a recorded copy failed: the copy stays recorded, with <paramref name="error"/> and one more attempt.</summary>
    Task RecordFailedRepairAsync(string name, int replica, string error, CancellationToken cancellationToken = default);

    /// <summary>Every recorded copy, with its reason (and the last repair error, if any).</summary>
    Task<IReadOnlyList<ReplicaIssue>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Forgets a copy: repaired, or the object is gone. Absent entries are ignored.</summary>
    Task RemoveAsync(string name, int replica, CancellationToken cancellationToken = default);
}

/// <summary>The default journal: a dictionary, lost when the process ends (the CLI's and the engine tests' behaviour).</summary>
public sealed class InMemoryRepairJournal : IRepairJournal
{
    private readonly ConcurrentDictionary<(string Name, int Replica), string> entries = new();

    /// <inheritdoc />
    public Task RecordAsync(string name, int replica, string reason, CancellationToken cancellationToken = default)
    {
        entries.TryAdd((name, replica), reason);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task RecordFailedRepairAsync(string name, int replica, string error, CancellationToken cancellationToken = default)
    {
        entries.AddOrUpdate((name, replica), $"repair failed: {error}", (_, reason) => $"{Reason(reason)}; repair failed: {error}");
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ReplicaIssue>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ReplicaIssue>>([.. entries.Select(e => new ReplicaIssue(e.Key.Name, e.Key.Replica, e.Value))]);

    /// <inheritdoc />
    public Task RemoveAsync(string name, int replica, CancellationToken cancellationToken = default)
    {
        entries.TryRemove((name, replica), out _);
        return Task.CompletedTask;
    }

    private static string Reason(string recorded) =>
        recorded.IndexOf("; repair failed: ", StringComparison.Ordinal) is >= 0 and var at ? recorded[..at] : recorded;
}
