using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Identity;
using Portal.Features.Policies;
using Portal.Features.Vaults;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// Tests that run the portal's protection services in a real host (<see cref="ProtectionHost"/>) on a fresh database and
/// temporary folders, as Ann the contributor; the host is started before each test and stopped after it.
/// </summary>
public abstract class ProtectionHostTest(TimeProvider? clock = null) : IAsyncLifetime
{
    protected const string Passphrase = "correct horse battery staple";
    protected readonly TestDatabase database = new();
    protected readonly string root = Directory.CreateTempSubdirectory("portal-host-").FullName;
    protected readonly ClaimsPrincipal ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);
    protected ProtectionHost host = null!;

    public virtual async Task InitializeAsync()
    {
        await database.InitializeAsync();
        host = await ProtectionHost.StartAsync(database, root, clock);
    }

    public virtual async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await database.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    /// <summary>A vault in east made by Ann, with its DefaultPolicy.</summary>
    protected async Task<(VaultDetails Vault, PolicyDetails Policy)> NewVaultAsync(string name = "finance", StorageRedundancy redundancy = StorageRedundancy.LRS)
    {
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest(name, "east", redundancy));
        var policy = (await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        return (vault, policy);
    }
}
