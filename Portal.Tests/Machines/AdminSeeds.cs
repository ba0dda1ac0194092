using System.Security.Cryptography;
using Portal.Features.Jobs;
using Portal.Features.Machines;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Machines;

/// <summary>
/// Machines and their backup items written straight to the test database, as registration (Access) and the agents' hub
/// (Control) would leave them: the administration pages only read them.
/// </summary>
public static class AdminSeeds
{
    /// <summary>A registered machine of <paramref name="vaultId"/>; <paramref name="shape"/> sets its connection state.</summary>
    public static async Task<Machine> AddMachineAsync(this TestDatabase database, Guid vaultId, string name, DateTime registeredAt, Action<Machine>? shape = null)
    {
        var machine = new Machine
        {
            Id = Guid.CreateVersion7(),
            VaultId = vaultId,
            Name = name,
            NormalizedName = name.ToUpperInvariant(),
            OperatingSystem = "Debian GNU/Linux 13 (x64)",
            AgentVersion = "1.0.0",
            SigningKey = RandomNumberGenerator.GetBytes(91),
            AgreementKey = RandomNumberGenerator.GetBytes(91),
            CredentialId = Guid.NewGuid(),
            RegisteredBy = "Ann",
            RegisteredAt = registeredAt,
        };
        shape?.Invoke(machine);
        await using var db = await database.Factory.CreateDbContextAsync();
        db.Machines.Add(machine);
        await db.SaveChangesAsync();
        return machine;
    }

    /// <summary>A files-and-folders item of <paramref name="machineId"/> (null: the portal host) with its last backup.</summary>
    public static async Task<BackupItem> AddItemAsync(
        this TestDatabase database, Guid vaultId, Guid? machineId, string name, JobStatus? lastStatus = null, DateTime? lastAt = null,
        ProtectionState state = ProtectionState.Protected)
    {
        var item = new BackupItem
        {
            Id = Guid.CreateVersion7(),
            VaultId = vaultId,
            Name = name,
            MachineId = machineId,
            SourcePath = "/srv/" + name,
            State = state,
            CreatedAt = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            CreatedBy = "Ann",
            LastBackupStatus = lastStatus,
            LastBackupAt = lastAt,
            SoftDeletedAt = state == ProtectionState.SoftDeleted ? new DateTime(2026, 2, 1, 0, 0, 0, DateTimeKind.Utc) : null,
        };
        await using var db = await database.Factory.CreateDbContextAsync();
        db.BackupItems.Add(item);
        await db.SaveChangesAsync();
        return item;
    }
}
