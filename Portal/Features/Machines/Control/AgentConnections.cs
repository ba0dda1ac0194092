using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace Portal.Features.Machines;

/// <summary>The agents connected to this portal instance: machine → its live connections (normally one).</summary>
public sealed class AgentConnections
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, HubCallerContext>> byMachine = new();

    /// <summary>This instance as machines' "connected to" names it.</summary>
    public string InstanceId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    public void Add(Guid machineId, HubCallerContext context) =>
        byMachine.GetOrAdd(machineId, _ => new ConcurrentDictionary<string, HubCallerContext>())[context.ConnectionId] = context;

    /// <summary>Forgets a connection; true when it was the machine's last one here.</summary>
    public bool Remove(Guid machineId, string connectionId)
    {
        if (!byMachine.TryGetValue(machineId, out var connections))
            return true;
        connections.TryRemove(connectionId, out _);
        if (!connections.IsEmpty)
            return false;
        byMachine.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<string, HubCallerContext>>(machineId, connections));
        return true;
    }

    /// <summary>The connection ids of a machine here (none when it is connected elsewhere or not at all).</summary>
    public IReadOnlyList<string> Of(Guid machineId) =>
        byMachine.TryGetValue(machineId, out var connections) ? [.. connections.Keys] : [];

    /// <summary>The machines connected here.</summary>
    public IReadOnlyCollection<Guid> Machines => [.. byMachine.Keys];

    /// <summary>Closes every connection of the machine here (revoked): the agent's reconnects are refused by authentication.</summary>
    public int Abort(Guid machineId)
    {
        if (!byMachine.TryRemove(machineId, out var connections))
            return 0;
        foreach (var context in connections.Values)
            context.Abort();
        return connections.Count;
    }
}
