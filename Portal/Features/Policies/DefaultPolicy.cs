using Portal.Data;
using Portal.Features.Vaults;

namespace Portal.Features.Policies;

/// <summary>Every new vault gets a policy called DefaultPolicy, as Azure makes one, saved with the vault.</summary>
internal sealed class DefaultPolicy : IVaultCreationObserver
{
    public const string Name = "DefaultPolicy";

    public void VaultCreating(PortalDbContext db, Vault vault, string author) =>
        db.BackupPolicies.Add(PolicyService.NewPolicy(vault.Id, Name, PolicyDefinition.Default, author));
}
