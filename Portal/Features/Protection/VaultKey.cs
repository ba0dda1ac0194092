namespace Portal.Features.Protection;

/// <summary>
/// A vault's repository key as this portal's hosts keep it for unattended backups: sealed with ASP.NET Core Data
/// Protection (a key ring only the portal hosts hold). Never the passphrase, never the plain key.
/// </summary>
public sealed class VaultKey
{
    public Guid VaultId { get; set; }

    /// <summary>The engine repository id, to tell a key from a repository made afresh elsewhere.</summary>
    public string RepositoryId { get; set; } = "";
    public byte[] SealedKey { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
}
