namespace Portal.Features.Vaults;

/// <summary>
/// Holds, in a vault's storage, the recovery points taken before it became immutable, so that the engine refuses to
/// remove them from the moment immutability is turned on (not only at the next retention run), and releases the holds
/// with no end when an unlocked immutability is turned off. Implemented by the feature that knows items, policies and
/// repositories (Protection); <see cref="VaultService"/> calls it in the same request that changes the vault.
/// </summary>
public interface IVaultHolds
{
    /// <summary>
    /// Holds every recovery point of the vault not held yet until its retention ends (with no end for a point kept until
    /// deleted). Returns what it did in words, or null when nothing needed holding. A repository that cannot be opened now
    /// is said in the words and tried again at the next retention run; other failures propagate.
    /// </summary>
    Task<HoldReport?> HoldAsync(Guid vaultId, CancellationToken ct = default);

    /// <summary>Releases the holds with no end (the vault is no longer immutable); dated holds stay until their time. Returns what it did in words, or null.</summary>
    Task<HoldReport?> ReleaseAsync(Guid vaultId, CancellationToken ct = default);
}

/// <summary>What holding (or releasing) did, in words; <paramref name="Complete"/> false when a repository is left for the next retention run.</summary>
public sealed record HoldReport(string Words, bool Complete);
