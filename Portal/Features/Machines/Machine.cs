namespace Portal.Features.Machines;

/// <summary>
/// A computer registered to a vault with Portal.Agent (the MARS agent's role): it backs up its own folders into its own
/// repository in the vault, and runs the restores sent to it. The portal keeps its public keys, never a private key or
/// its passphrase.
/// </summary>
public sealed class Machine
{
    public Guid Id { get; set; }
    public Guid VaultId { get; set; }

    /// <summary>The machine's host name as it registered (unique in its vault, ignoring case, among machines not revoked).</summary>
    public string Name { get; set; } = "";

    /// <summary>Upper-case invariant form of <see cref="Name"/>.</summary>
    public string NormalizedName { get; set; } = "";

    /// <summary>The operating system as the agent describes it ("Debian GNU/Linux 13 (x64)").</summary>
    public string OperatingSystem { get; set; } = "";

    public string AgentVersion { get; set; } = "";

    /// <summary>ECDSA P-256 public key (SubjectPublicKeyInfo): verifies the machine's tokens.</summary>
    public byte[] SigningKey { get; set; } = [];

    /// <summary>ECDH P-256 public key (SubjectPublicKeyInfo): what a read grant's key is sealed to.</summary>
    public byte[] AgreementKey { get; set; } = [];

    /// <summary>The machine's repository id, once it has made its repository.</summary>
    public string? RepositoryId { get; set; }

    /// <summary>
    /// The machine's repository key sealed to the vault's escrow key (<see cref="VaultEscrowKey"/>), so the portal runs
    /// retention, prune, browsing and downloads; null until the agent sent it.
    /// </summary>
    public byte[]? EscrowedRepositoryKey { get; set; }

    /// <summary>The credentials it registered with, and who made them.</summary>
    public Guid CredentialId { get; set; }
    public string RegisteredBy { get; set; } = "";
    public DateTime RegisteredAt { get; set; }

    /// <summary>Last time the machine was heard from (connect, hello, heartbeat, a job's report).</summary>
    public DateTime? LastContactAt { get; set; }

    /// <summary>The portal instance holding the machine's connection now (null: not connected).</summary>
    public string? ConnectedTo { get; set; }
    public DateTime? ConnectedAt { get; set; }

    /// <summary>When the machine's connection was last lost (for "offline since").</summary>
    public DateTime? DisconnectedAt { get; set; }

    /// <summary>Revoked machines cannot connect or reach storage; their data stays in the vault.</summary>
    public DateTime? RevokedAt { get; set; }
    public string? RevokedBy { get; set; }

    /// <summary>Upload limits (KiB/s) in and outside work hours (null: none), as Azure's agent throttling.</summary>
    public int? UploadKiBPerSecond { get; set; }
    public int? OffHoursUploadKiBPerSecond { get; set; }

    public uint Version { get; set; }

    public bool IsRevoked => RevokedAt is not null;
}

/// <summary>
/// A credentials file made by "Add a machine": single use, expires after <see cref="MachineRules.CredentialLifetime"/>,
/// revocable. Only a SHA-256 hash of its secret is kept.
/// </summary>
public sealed class MachineCredential
{
    public Guid Id { get; set; }
    public Guid VaultId { get; set; }
    public byte[] SecretHash { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime ExpiresAt { get; set; }

    /// <summary>When a machine registered with it, and which (a used file is refused).</summary>
    public DateTime? UsedAt { get; set; }
    public Guid? MachineId { get; set; }

    public DateTime? RevokedAt { get; set; }
    public string? RevokedBy { get; set; }
    public uint Version { get; set; }
}

/// <summary>
/// A vault's escrow key pair (ECDH P-256): machines seal their repository keys to its public key; its private key is
/// kept sealed with ASP.NET Core Data Protection, as vault keys are.
/// </summary>
public sealed class VaultEscrowKey
{
    public Guid VaultId { get; set; }
    public byte[] PublicKey { get; set; } = [];
    public byte[] SealedPrivateKey { get; set; } = [];
    public DateTime CreatedAt { get; set; }
}

/// <summary>The fixed rules of machines.</summary>
public static class MachineRules
{
    /// <summary>A credentials file expires this long after it was made (Azure's vault credentials: 10 days).</summary>
    public static readonly TimeSpan CredentialLifetime = TimeSpan.FromDays(10);

    /// <summary>A machine unheard of for this long is offline even if an instance still claims its connection (a dead instance).</summary>
    public static readonly TimeSpan ContactTimeout = TimeSpan.FromMinutes(2);

    /// <summary>A scheduled backup of an offline machine waits this long for it before failing (Machines:OfflineWindow overrides).</summary>
    public static readonly TimeSpan DefaultOfflineWindow = TimeSpan.FromHours(2);
}
