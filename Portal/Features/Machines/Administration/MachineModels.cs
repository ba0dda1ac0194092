using Portal.Features.Common;
using Portal.Features.Jobs;

namespace Portal.Features.Machines.Administration;

/// <summary>What a machine is doing, as the machine list shows it.</summary>
public enum MachineStatus
{
    /// <summary>Connected to a portal instance and heard from within <see cref="MachineRules.ContactTimeout"/>.</summary>
    Online,

    /// <summary>Not connected, or not heard from for longer than <see cref="MachineRules.ContactTimeout"/>.</summary>
    Offline,

    /// <summary>Revoked: it can no longer connect or reach storage; its recovery points stay in the vault.</summary>
    Revoked,
}

/// <summary>One registered machine as the portal's pages list it (revoked machines included, with <see cref="MachineStatus.Revoked"/>).</summary>
/// <param name="Id">The machine's id.</param>
/// <param name="VaultId">The vault it is registered to.</param>
/// <param name="Name">Its host name as it registered.</param>
/// <param name="VaultName">The vault's name.</param>
/// <param name="OperatingSystem">The operating system as the agent described it.</param>
/// <param name="AgentVersion">The version of Portal.Agent it last reported.</param>
/// <param name="RegisteredAt">When it registered.</param>
/// <param name="RegisteredBy">Who made the credentials file it registered with.</param>
/// <param name="LastContactAt">The last time it was heard from (null: never since registration).</param>
/// <param name="Status">Online, offline or revoked.</param>
/// <param name="OfflineSince">For an offline machine: since when (its disconnection, else its last contact); null when online, revoked or never heard from.</param>
/// <param name="RevokedAt">When it was revoked.</param>
/// <param name="RevokedBy">Who revoked it.</param>
/// <param name="ItemNames">The names of its backup items (soft-deleted ones left out), sorted.</param>
/// <param name="LastBackupStatus">The outcome of the newest backup of any of its items.</param>
/// <param name="LastBackupAt">When that backup ran.</param>
/// <param name="UploadKiBPerSecond">Upload limit during work hours (KiB/s; null: none).</param>
/// <param name="OffHoursUploadKiBPerSecond">Upload limit outside work hours (KiB/s; null: none).</param>
public sealed record MachineRow(
    Guid Id,
    Guid VaultId,
    string Name,
    string VaultName,
    string OperatingSystem,
    string AgentVersion,
    DateTime RegisteredAt,
    string RegisteredBy,
    DateTime? LastContactAt,
    MachineStatus Status,
    DateTime? OfflineSince,
    DateTime? RevokedAt,
    string? RevokedBy,
    IReadOnlyList<string> ItemNames,
    JobStatus? LastBackupStatus,
    DateTime? LastBackupAt,
    int? UploadKiBPerSecond,
    int? OffHoursUploadKiBPerSecond)
{
    /// <summary>How many backup items the machine has (soft-deleted ones left out).</summary>
    public int ItemCount => ItemNames.Count;

    /// <summary>Whether the machine is online now.</summary>
    public bool IsOnline => Status == MachineStatus.Online;

    /// <summary>Whether the machine was revoked.</summary>
    public bool IsRevoked => Status == MachineStatus.Revoked;
}

/// <summary>The state of a credentials file.</summary>
public enum MachineCredentialState
{
    /// <summary>Not used yet and not expired: a machine can still register with it.</summary>
    Waiting,

    /// <summary>A machine registered with it (a file is single use).</summary>
    Used,

    /// <summary>Past its expiry without being used.</summary>
    Expired,

    /// <summary>Revoked before it was used.</summary>
    Revoked,
}

/// <summary>A credentials file of a vault, without its secret (the portal only keeps a hash of it).</summary>
/// <param name="Id">The credentials' id (also in the file).</param>
/// <param name="VaultId">The vault.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="CreatedBy">Who made it.</param>
/// <param name="ExpiresAt">When it stops being accepted.</param>
/// <param name="State">Waiting, used, expired or revoked.</param>
/// <param name="UsedAt">When a machine registered with it.</param>
/// <param name="MachineId">The machine that registered with it.</param>
/// <param name="MachineName">That machine's name.</param>
/// <param name="RevokedAt">When it was revoked.</param>
/// <param name="RevokedBy">Who revoked it.</param>
public sealed record MachineCredentialRow(
    Guid Id,
    Guid VaultId,
    DateTime CreatedAt,
    string CreatedBy,
    DateTime ExpiresAt,
    MachineCredentialState State,
    DateTime? UsedAt,
    Guid? MachineId,
    string? MachineName,
    DateTime? RevokedAt,
    string? RevokedBy)
{
    /// <summary>The state in words: "Waiting for a machine until 2026-12-17 10:00 UTC", "Used by machine web01 on 2026-12-08 09:12 UTC", …</summary>
    public string StateText => State switch
    {
        MachineCredentialState.Waiting => $"Waiting for a machine until {Format.Utc(ExpiresAt)}",
        MachineCredentialState.Used => $"Used by machine {MachineName ?? "(removed)"} on {Format.Utc(UsedAt)}",
        MachineCredentialState.Expired => $"Expired on {Format.Utc(ExpiresAt)}, unused",
        _ => $"Revoked by {RevokedBy} on {Format.Utc(RevokedAt)}",
    };
}

/// <summary>A credentials file to hand to the browser: its file name and its bytes (JSON <c>MachineCredentialsFile</c>).</summary>
/// <param name="FileName">"VAULTNAME-YYYY-MM-DD.portalcredentials".</param>
/// <param name="Content">UTF-8 JSON; holds the one-time secret, so it is given to the user and kept nowhere.</param>
/// <param name="CredentialId">The credentials' id.</param>
/// <param name="ExpiresAt">When the file stops being accepted.</param>
public sealed record MachineCredentialsDownload(string FileName, byte[] Content, Guid CredentialId, DateTime ExpiresAt);

/// <summary>The audited actions of machine administration, as written in the audit log.</summary>
public static class MachineAuditActions
{
    /// <summary>A credentials file was made ("Add a machine").</summary>
    public const string CreateCredentials = "Machine.Credentials.Create";

    /// <summary>A waiting credentials file was revoked.</summary>
    public const string RevokeCredentials = "Machine.Credentials.Revoke";

    /// <summary>A machine was revoked.</summary>
    public const string Revoke = "Machine.Revoke";

    /// <summary>A machine's upload limits were changed.</summary>
    public const string SetUploadLimits = "Machine.UploadLimits";
}
