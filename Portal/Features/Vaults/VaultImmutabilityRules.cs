using Portal.Features.Common;

namespace Portal.Features.Vaults;

/// <summary>
/// The immutable vault's rule, in one place for every service that could remove a recovery point early: while a vault
/// is immutable (enabled or locked), such an operation is refused with the reason and what to do instead.
/// </summary>
public static class VaultImmutabilityRules
{
    public static bool IsImmutable(this Vault vault) => vault.Immutability != VaultImmutability.Disabled;

    /// <summary>
    /// The refusal of <paramref name="operation"/> (a verb phrase: "reducing the retention of policy P") in an immutable
    /// vault; <paramref name="instead"/> says what the user can do.
    /// </summary>
    public static PortalConflictException Refusal(Vault vault, string operation, string instead) =>
        new($"Vault {vault.Name} is immutable{(vault.Immutability == VaultImmutability.Locked ? " and locked" : "")}: {operation} would remove " +
            $"recovery points before their retention ends, so it is refused. {instead}" +
            (vault.Immutability == VaultImmutability.Enabled ? " A Backup.Contributor can turn immutability off in the vault's Immutability panel if this is really needed." : ""));

    public static string Describe(VaultImmutability state) => state switch
    {
        VaultImmutability.Enabled => "Immutable (unlocked): recovery points cannot be removed before their retention ends; can be turned off",
        VaultImmutability.Locked => "Immutable (locked): recovery points cannot be removed before their retention ends; cannot be turned off",
        _ => "Off: recovery points can be removed early by the operations that allow it (with a second approver where critical)",
    };
}
