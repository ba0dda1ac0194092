using Portal.Features.Attach;
using Portal.Features.Drills;
using Portal.Features.Verification;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.Features.Workloads;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Restore;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>Component tests of the protection pages, with vaults and backup items to show.</summary>
public abstract class ProtectionComponentTest : PortalComponentTest
{
    /// <summary>A vault with its DefaultPolicy, made by a contributor.</summary>
    protected async Task<VaultDetails> CreateVaultAsync(string name) =>
        await TestPortal.For(Database, TestUsers.WithRoles("Setup", PortalRoles.Contributor)).Vaults().CreateAsync(new CreateVaultRequest(name, "east"));

    /// <summary>A backup item in <paramref name="state"/>, written straight to the database (no key, no schedule, no backup).</summary>
    protected async Task<BackupItem> SeedItemAsync(VaultDetails vault, string name, ProtectionState state)
    {
        await using var db = Database.Factory.CreateDbContext();
        var policy = db.BackupPolicies.First(p => p.VaultId == vault.Id);
        var now = DateTime.UtcNow;
        var item = new BackupItem
        {
            Id = Guid.CreateVersion7(), VaultId = vault.Id, Name = name, State = state, PolicyId = policy.Id, SourcePath = Path.Combine(SourceRoot, name),
            CreatedAt = now.AddDays(-2), CreatedBy = "Setup", ProtectionStoppedAt = state == ProtectionState.Protected ? null : now.AddDays(-1),
            SoftDeletedAt = state == ProtectionState.SoftDeleted ? now.AddDays(-1) : null,
        };
        db.BackupItems.Add(item);
        await db.SaveChangesAsync();
        return item;
    }
}

public static class ProtectionTestServices
{
    /// <summary>
    /// The real <see cref="ProtectionService"/> over <paramref name="root"/> (sources/, keys/, regions/). The scheduler is
    /// registered but never started: component tests do not run backups.
    /// </summary>
    public static IServiceCollection AddProtectionServices(this IServiceCollection services, TestDatabase database, string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "sources"));
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Portal"] = database.ConnectionString,
            ["Protection:SourceRoots:0"] = Path.Combine(root, "sources"),
            ["Protection:KeyRingPath"] = Path.Combine(root, "keys"),
            ["Protection:KdfMemoryKiB"] = "1024",
            ["Protection:KdfIterations"] = "1",
            ["Restore:Roots:0"] = Path.Combine(root, "restores"),
        }).Build());
        var storage = TestRegions.Options();
        storage.Root = Path.Combine(root, "regions");
        services.AddSingleton(Options.Create(storage));
        services.AddSingleton<RegionStores>();
        services.AddScoped<Microsoft.AspNetCore.Components.Server.ProtectedBrowserStorage.ProtectedSessionStorage>();
        Portal.Features.Replication.ReplicationServiceCollectionExtensions.AddPortalReplicationLimits(services); // the vault page's replication panel
        return services.AddPortalProtection().AddPortalWorkloads().AddPortalRestore().AddPortalDrills().AddPortalVerification()
            .AddPortalAttach(); // the vault page's Machines card offers "Attach another machine"
    }
}
