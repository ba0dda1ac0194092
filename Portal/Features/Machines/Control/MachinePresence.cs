using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Features.Machines;

/// <summary>
/// Whether machines are online: the instance holding a machine's connection records it (connected to, since) and touches
/// every connected machine's last contact in one statement per <see cref="TouchInterval"/>, so that a machine whose
/// instance died shows offline after <see cref="MachineRules.ContactTimeout"/>.
/// </summary>
public sealed class MachinePresence(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>How often connected machines' last contact is written (one UPDATE for all of this instance's).</summary>
    public static readonly TimeSpan TouchInterval = TimeSpan.FromSeconds(30);

    /// <summary>Online: an instance holds its connection, and it was heard from within the contact timeout.</summary>
    public static bool IsOnline(Machine machine, DateTime nowUtc) =>
        !machine.IsRevoked && machine.ConnectedTo is not null && machine.LastContactAt is { } at && nowUtc - at <= MachineRules.ContactTimeout;

    /// <summary>Since when an offline machine has been unheard of (null when it never connected).</summary>
    public static DateTime? OfflineSince(Machine machine) => machine.DisconnectedAt ?? machine.LastContactAt;

    /// <summary>A connection of the machine arrived at <paramref name="instance"/>.</summary>
    public async Task ConnectedAsync(Guid machineId, string instance, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Machines.Where(m => m.Id == machineId).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.ConnectedTo, instance).SetProperty(m => m.ConnectedAt, now)
            .SetProperty(m => m.LastContactAt, now).SetProperty(m => m.DisconnectedAt, (DateTime?)null), ct);
    }

    /// <summary>The machine's last connection at <paramref name="instance"/> closed (unless another instance holds a newer one).</summary>
    public async Task DisconnectedAsync(Guid machineId, string instance, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Machines.Where(m => m.Id == machineId && m.ConnectedTo == instance).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.ConnectedTo, (string?)null).SetProperty(m => m.DisconnectedAt, now).SetProperty(m => m.LastContactAt, now), ct);
    }

    /// <summary>The machine said who it is (after each connect).</summary>
    public async Task HelloAsync(Guid machineId, string operatingSystem, string agentVersion, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Machines.Where(m => m.Id == machineId).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.OperatingSystem, Clip(operatingSystem, 200)).SetProperty(m => m.AgentVersion, Clip(agentVersion, 64))
            .SetProperty(m => m.LastContactAt, now), ct);
    }

    /// <summary>Every machine connected here was heard from now (their connections are alive: SignalR's keep-alive says so).</summary>
    public async Task TouchAsync(IReadOnlyCollection<Guid> machineIds, string instance, CancellationToken ct)
    {
        if (machineIds.Count == 0)
            return;
        var now = clock.GetUtcNow().UtcDateTime;
        var ids = machineIds.ToArray();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Machines.Where(m => ids.Contains(m.Id)).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.LastContactAt, now).SetProperty(m => m.ConnectedTo, instance), ct);
    }

    private static string Clip(string? text, int max)
    {
        var clean = new string((text ?? "").Where(c => !char.IsControl(c)).ToArray()).Trim();
        return clean.Length > max ? clean[..max] : clean;
    }
}
