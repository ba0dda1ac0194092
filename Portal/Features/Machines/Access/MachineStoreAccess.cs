using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Engine.Storage;
using Portal.Features.Jobs;
using Portal.Features.Regions;

namespace Portal.Features.Machines.Access;

/// <summary>Which repository a store request reaches, and whether it may write.</summary>
/// <param name="Store">The machine's repository (its own, or a granted source's).</param>
/// <param name="ReadOnly">A read grant (restore from another machine): GET, HEAD and list only.</param>
/// <param name="MachineId">Whose repository it is.</param>
public sealed record MachineStoreTarget(IObjectStore Store, bool ReadOnly, Guid MachineId);

/// <summary>
/// Decides which repository an authenticated machine's store request reaches: its own, read-write (append-only); or,
/// with <see cref="AgentRoutes.SourceMachineHeader"/>, another machine's of the same vault, read-only, only while a
/// <see cref="AgentOperations.Restore"/> job of the caller that names that source is in progress.
/// </summary>
public sealed class MachineStoreAccess(IDbContextFactory<PortalDbContext> dbFactory, RegionStores stores)
{
    private readonly ConcurrentDictionary<Guid, (string Region, string Name)> vaults = new();

    /// <summary>The repository the request reaches; an <see cref="AgentRefusedException"/> (403) when the source is not granted.</summary>
    public async Task<MachineStoreTarget> ResolveAsync(ClaimsPrincipal machine, string? sourceHeader, CancellationToken ct)
    {
        var self = machine.MachineId() ?? throw new AgentRefusedException(401, "This call is for registered machines only.");
        var vaultId = machine.VaultId();
        if (string.IsNullOrWhiteSpace(sourceHeader))
            return new MachineStoreTarget(await OpenAsync(vaultId, self, ct), false, self);
        if (!Guid.TryParse(sourceHeader, out var source))
            throw new AgentRefusedException(400, $"The header {AgentRoutes.SourceMachineHeader} must be a machine id.");
        if (source == self)
            return new MachineStoreTarget(await OpenAsync(vaultId, self, ct), false, self);
        if (!await GrantedAsync(self, vaultId, source, ct))
            throw new AgentRefusedException(403, $"No restore job grants this machine access to machine {source:N}'s backups.");
        return new MachineStoreTarget(await OpenAsync(vaultId, source, ct), true, source);
    }

    private async Task<bool> GrantedAsync(Guid self, Guid vaultId, Guid source, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Machines.AnyAsync(m => m.Id == source && m.VaultId == vaultId, ct))
            return false;
        var inputs = await db.Jobs.AsNoTracking()
            .Where(j => j.MachineId == self && j.Operation == AgentOperations.Restore && j.Status == JobStatus.InProgress)
            .Select(j => j.Input)
            .ToListAsync(ct);
        return inputs.Any(input => SourceOf(input) == source);
    }

    private static Guid? SourceOf(string? input)
    {
        if (string.IsNullOrEmpty(input))
            return null;
        try
        {
            using var json = JsonDocument.Parse(input);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("sourceMachineId", out var value)
                && value.ValueKind == JsonValueKind.String && value.TryGetGuid(out var id) ? id : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<IObjectStore> OpenAsync(Guid vaultId, Guid machineId, CancellationToken ct)
    {
        if (!vaults.TryGetValue(vaultId, out var vault))
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var row = await db.Vaults.AsNoTracking().Where(v => v.Id == vaultId).Select(v => new { v.Region, v.Name }).FirstOrDefaultAsync(ct)
                ?? throw new AgentRefusedException(404, "This machine's vault no longer exists.");
            vaults[vaultId] = vault = (row.Region, row.Name);
        }

        return stores.Machine(vaultId, vault.Region, machineId, vault.Name);
    }
}
