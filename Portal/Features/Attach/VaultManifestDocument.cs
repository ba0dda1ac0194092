using System.Text.Json;
using System.Text.Json.Serialization;
using Portal.Features.Machines;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Vaults;

namespace Portal.Features.Attach;

/// <summary>
/// What the vault manifest holds (JSON, sealed in the vault's repository by the engine): the vault's settings, its
/// policies with their schedules and retention, its items' definitions, its machines with their public keys and escrowed
/// repository keys, and the vault's escrow key pair. No database password and no passphrase is ever in it; the escrow
/// private key is, because only the vault's passphrase opens the manifest and without it no machine's backups could come back.
/// </summary>
public sealed record VaultManifestDocument(
    int Version, ManifestVault Vault, IReadOnlyList<ManifestPolicy> Policies, IReadOnlyList<ManifestItem> Items,
    IReadOnlyList<ManifestMachine> Machines, ManifestEscrow? Escrow)
{
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The document, or null when <paramref name="json"/> is not one this version can read.</summary>
    public static VaultManifestDocument? TryParse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<VaultManifestDocument>(json, Json) is { Vault: not null } d && d.Version <= CurrentVersion ? d : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

public sealed record ManifestVault(
    Guid Id, string Name, string Region, StorageRedundancy Redundancy, bool SoftDeleteEnabled, int SoftDeleteRetentionDays,
    VaultImmutability Immutability, DateTime CreatedAt, string CreatedBy)
{
    public static ManifestVault From(Vault v) =>
        new(v.Id, v.Name, v.Region, v.Redundancy, v.SoftDeleteEnabled, v.SoftDeleteRetentionDays, v.Immutability, v.CreatedAt, v.CreatedBy);
}

/// <summary>A policy: its definition as the Policies feature stores it (schedule and retention, JSON).</summary>
public sealed record ManifestPolicy(Guid Id, string Name, string Definition, DateTime CreatedAt, string CreatedBy)
{
    public static ManifestPolicy From(BackupPolicy p) => new(p.Id, p.Name, p.Definition, p.CreatedAt, p.CreatedBy);
}

public sealed record ManifestItem(
    Guid Id, string Name, string Kind, ProtectionState State, Guid? PolicyId, Guid? MachineId, string SourcePath,
    IReadOnlyList<string> Include, IReadOnlyList<string> Exclude, string? PreScript, string? PostScript, int? ScriptTimeoutSeconds,
    string? DatabaseHost, int? DatabasePort, string? DatabaseName, string? DatabaseUser, bool HadDatabasePassword,
    DateTime CreatedAt, string CreatedBy, DateTime? ProtectionStoppedAt, DateTime? SoftDeletedAt, string? DrillCheckQuery = null)
{
    public static ManifestItem From(BackupItem i) =>
        new(i.Id, i.Name, i.Kind, i.State, i.PolicyId, i.MachineId, i.SourcePath, i.Include, i.Exclude, i.PreScript, i.PostScript, i.ScriptTimeoutSeconds,
            i.DatabaseHost, i.DatabasePort, i.DatabaseName, i.DatabaseUser, i.SealedDatabasePassword is not null,
            i.CreatedAt, i.CreatedBy, i.ProtectionStoppedAt, i.SoftDeletedAt, i.DrillCheckQuery);
}

/// <summary>A registered machine: who it is (public keys, so its agent can connect again) and its escrowed repository key.</summary>
public sealed record ManifestMachine(
    Guid Id, string Name, string OperatingSystem, string AgentVersion, byte[] SigningKey, byte[] AgreementKey, string? RepositoryId,
    byte[]? EscrowedRepositoryKey, Guid CredentialId, string RegisteredBy, DateTime RegisteredAt, DateTime? RevokedAt, string? RevokedBy)
{
    public static ManifestMachine From(Machine m) =>
        new(m.Id, m.Name, m.OperatingSystem, m.AgentVersion, m.SigningKey, m.AgreementKey, m.RepositoryId, m.EscrowedRepositoryKey, m.CredentialId,
            m.RegisteredBy, m.RegisteredAt, m.RevokedAt, m.RevokedBy);
}

/// <summary>The vault's escrow key pair: the public key machines seal to, and the private key (PKCS#8) that opens their escrowed keys.</summary>
public sealed record ManifestEscrow(byte[] PublicKey, byte[] PrivateKey);
