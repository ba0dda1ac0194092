#pragma warning disable CS1573 // records document the parameters that need words; the rest are named well enough

namespace Portal.Engine.Agents;

// The wire contract between the portal and Portal.Agent (docs/agent-protocol.md tells the whole story). Both sides
// compile these types, so a change here is a protocol change: add members, never rename or remove them.

/// <summary>Where the agent's calls go, relative to the portal's address.</summary>
public static class AgentRoutes
{
    /// <summary>POST <see cref="RegisterRequest"/> (no machine token: the credentials file's secret) → <see cref="RegisterResponse"/>.</summary>
    public const string Register = "/api/agent/register";

    /// <summary>POST <see cref="RepositoryKeyRequest"/>: the machine's repository key, sealed to the vault's escrow key, once after init.</summary>
    public const string RepositoryKey = "/api/agent/repository-key";

    /// <summary>POST (machine token, no body): the machine revokes its own registration (the agent's <c>unregister</c>); its data stays.</summary>
    public const string Unregister = "/api/agent/unregister";

    /// <summary>
    /// The machine's repository as an append-only object store: <c>GET|HEAD|PUT {Store}/{object name}</c>, <c>GET {Store}?prefix=P</c> to
    /// list (JSON array of <see cref="StoreListEntry"/>), <c>DELETE</c> only under <c>locks/</c>. PUT is write-once (409 when an object with other
    /// bytes exists). GET honours one <c>Range: bytes=a-b</c>.
    /// </summary>
    public const string Store = "/api/agent/store";

    /// <summary>The SignalR hub of control: the agent connects out, the portal sends <see cref="AgentClientMethods"/>, the agent calls <see cref="AgentHubMethods"/>.</summary>
    public const string Hub = "/api/agent/hub";

    /// <summary>With a read grant (restore to another machine), the store request names the source machine's repository in this header.</summary>
    public const string SourceMachineHeader = "X-Portal-Source-Machine";
}

/// <summary>The credentials file "Add a machine" downloads (JSON, <c>*.portalcredentials</c>): single use, expires, revocable.</summary>
/// <param name="Version">1.</param>
/// <param name="Portal">The portal's address the machine connects to (https://…).</param>
/// <param name="VaultId">The vault the machine registers to.</param>
/// <param name="VaultName">The vault's name, for messages.</param>
/// <param name="CredentialId">Which credentials these are (the portal keeps only a hash of <paramref name="Secret"/>).</param>
/// <param name="Secret">The one-time secret (base64url of 32 random bytes).</param>
/// <param name="ExpiresAt">After this, registration with the file is refused.</param>
public sealed record MachineCredentialsFile(int Version, string Portal, Guid VaultId, string VaultName, Guid CredentialId, string Secret, DateTimeOffset ExpiresAt);

/// <summary>A machine registers: the credentials' secret, what the machine is, and its public keys (SubjectPublicKeyInfo, base64).</summary>
/// <param name="SigningKey">ECDSA P-256 public key: verifies the machine's tokens (<see cref="MachineToken"/>).</param>
/// <param name="AgreementKey">ECDH P-256 public key: what the portal seals a grant's repository key to (restore from another machine).</param>
public sealed record RegisterRequest(
    Guid CredentialId, string Secret, string MachineName, string OperatingSystem, string AgentVersion, string SigningKey, string AgreementKey);

/// <summary>The registered machine.</summary>
/// <param name="EscrowKey">The vault's escrow public key (SubjectPublicKeyInfo, base64): the machine seals its repository key to it
/// (<see cref="Crypto.SealedBox"/>, context <see cref="AgentContexts.RepositoryKey"/>) so the portal can run retention, prune and browsing.</param>
public sealed record RegisterResponse(Guid MachineId, Guid VaultId, string VaultName, string MachineName, string EscrowKey);

/// <summary>The machine's repository key sealed to the vault's escrow key, and the repository's id.</summary>
public sealed record RepositoryKeyRequest(string RepositoryId, string EscrowedKey);

/// <summary>Every refusal's body: what is wrong and what to do, in words to show as they are.</summary>
public sealed record AgentProblem(string Error);

/// <summary>One object in a store listing.</summary>
public sealed record StoreListEntry(string Name, long Length, DateTimeOffset LastModified);

/// <summary>The contexts that bind sealed boxes to their purpose.</summary>
public static class AgentContexts
{
    /// <summary>A machine's repository key sealed to its vault's escrow key: <c>repository-key/{machine id}</c>.</summary>
    public static string RepositoryKey(Guid machineId) => $"repository-key/{machineId:N}";

    /// <summary>A source machine's repository key sealed to a target machine for one restore job: <c>grant/{job id}</c>.</summary>
    public static string Grant(Guid jobId) => $"grant/{jobId:N}";
}

/// <summary>What the agent calls on the hub.</summary>
public static class AgentHubMethods
{
    /// <summary><c>Hello(AgentHello)</c> → <see cref="AgentSettings"/>: the first call after every connect.</summary>
    public const string Hello = "Hello";

    /// <summary><c>Claim()</c> → <see cref="AgentJob"/> or null: the oldest queued job of this machine whose concurrency key is free.</summary>
    public const string Claim = "Claim";

    /// <summary><c>Report(AgentLease, AgentProgress)</c> → <see cref="AgentControl"/>: progress, and the heartbeat.</summary>
    public const string Report = "Report";

    /// <summary><c>Log(AgentLease, AgentLogLevel, string[])</c>.</summary>
    public const string Log = "Log";

    /// <summary><c>Finish(AgentLease, AgentOutcome)</c> → bool (false: the job is no longer this attempt's).</summary>
    public const string Finish = "Finish";
}

/// <summary>What the portal sends the agent.</summary>
public static class AgentClientMethods
{
    /// <summary><c>Wake()</c>: a job for this machine is queued; claim it.</summary>
    public const string Wake = "Wake";

    /// <summary><c>Settings(AgentSettings)</c>: settings changed (upload limits).</summary>
    public const string Settings = "Settings";

    /// <summary>
    /// <c>ListFolders(FolderListRequest)</c> → <see cref="FolderListResponse"/> (a SignalR client result): the folders one level
    /// below a path of the machine, for the folder picker of its items. The agent bounds the count and the time, refuses
    /// paths outside its source roots (when it has them) and never offers a symbolic link that leads out of them.
    /// </summary>
    public const string ListFolders = "ListFolders";
}

/// <summary>The portal asks a machine for the folders one level below <paramref name="Path"/>.</summary>
/// <param name="Path">An absolute folder of the machine; null for the machine's source roots (the top of its picker).</param>
/// <param name="MaxFolders">The most folders to name (the rest are counted in <see cref="FolderListResponse.More"/>).</param>
public sealed record FolderListRequest(string? Path, int MaxFolders);

/// <summary>
/// A machine's answer to <see cref="FolderListRequest"/>. The portal treats every field as hostile: it checks that the path
/// is the one asked for, that each name is one plain folder name and that the counts are in bounds.
/// </summary>
/// <param name="Path">The folder listed, normalised (null for the roots).</param>
/// <param name="Parent">The folder one level up, null at a source root (up shows the roots).</param>
/// <param name="Folders">For a path: the subfolders' names (not paths), in order. For the roots: their absolute paths.</param>
/// <param name="More">How many subfolders were left out past the count (or the time) bound.</param>
/// <param name="Error">Why the machine cannot list the path, in words to show as they are (then the rest is empty).</param>
public sealed record FolderListResponse(string? Path, string? Parent, IReadOnlyList<string> Folders, int More, string? Error = null);

/// <summary>What the agent says of itself after connecting.</summary>
public sealed record AgentHello(string MachineName, string OperatingSystem, string AgentVersion, IReadOnlyList<Guid> RunningJobs);

/// <summary>What the portal tells a connected agent.</summary>
/// <param name="UploadKiBPerSecond">Upload limit in work hours (null: none).</param>
/// <param name="OffHoursUploadKiBPerSecond">Upload limit outside work hours (null: none).</param>
/// <param name="WorkDayStart">Start of work hours, local time of the machine (e.g. 08:00).</param>
/// <param name="WorkDayEnd">End of work hours.</param>
/// <param name="WorkDays">Work days (0 = Sunday).</param>
public sealed record AgentSettings(
    Guid MachineId, string MachineName, Guid VaultId, string VaultName,
    int? UploadKiBPerSecond = null, int? OffHoursUploadKiBPerSecond = null,
    TimeOnly? WorkDayStart = null, TimeOnly? WorkDayEnd = null, IReadOnlyList<int>? WorkDays = null);

/// <summary>One attempt of one job, as the agent holds it: every report names it, and the portal refuses a stale one.</summary>
public sealed record AgentLease(Guid JobId, int Attempt);

/// <summary>A job the agent claimed: its operation (<see cref="AgentOperations"/>) and typed input as JSON.</summary>
/// <param name="Heartbeat">
/// How often the agent reports while nothing moves (the portal's <c>Jobs:HeartbeatInterval</c>): the portal fails a job
/// silent for its lease timeout, at least three heartbeats. Null (an older portal): the agent's default.
/// </param>
public sealed record AgentJob(AgentLease Lease, string Operation, string Input, TimeSpan? Heartbeat = null);

/// <summary>Progress of a running job.</summary>
public sealed record AgentProgress(
    string Phase, long BytesDone, long? BytesTotal, long FilesDone, long? FilesTotal, string? CurrentPath = null, double? BytesPerSecond = null);

/// <summary>What the portal answers a report.</summary>
public enum AgentControl
{
    /// <summary>Go on.</summary>
    Continue,

    /// <summary>Someone asked to cancel: stop and finish as Cancelled.</summary>
    Cancel,

    /// <summary>The job is no longer this attempt's: stop without finishing it.</summary>
    Lost,
}

/// <summary>A log line's level.</summary>
public enum AgentLogLevel
{
    /// <summary>What was done.</summary>
    Info,

    /// <summary>Something skipped, with its path.</summary>
    Warning,

    /// <summary>A failure, with what to do.</summary>
    Error,
}

/// <summary>How the agent's run ended: a status, its words, and the operation's typed result as JSON.</summary>
/// <param name="Status">Completed, CompletedWithWarnings, Failed or Cancelled.</param>
public sealed record AgentOutcome(string Status, string? Message, string? Result);

/// <summary>The operations an agent runs (stable names, stored with jobs).</summary>
public static class AgentOperations
{
    /// <summary><see cref="MachineBackupInput"/> → <see cref="MachineBackupResult"/>.</summary>
    public const string Backup = "machine-backup";

    /// <summary><see cref="MachineRestoreInput"/> → <see cref="MachineRestoreResult"/>.</summary>
    public const string Restore = "machine-restore";

    /// <summary><see cref="MachineDrillInput"/> → <see cref="MachineDrillResult"/>.</summary>
    public const string Drill = "machine-drill";
}

/// <summary>Back up a folder of the machine into its repository.</summary>
/// <param name="Tags">Tags for the snapshot: the portal's <c>job:ID</c> and <c>item:ID</c>.</param>
/// <param name="ScriptTimeoutSeconds">How long each script may run.</param>
/// <param name="KeepUntil">An immutable vault's floor: the snapshot may not be forgotten before this time (null: none).</param>
public sealed record MachineBackupInput(
    Guid ItemId, string ItemName, string SourcePath, IReadOnlyList<string> Include, IReadOnlyList<string> Exclude,
    string? PreScript, string? PostScript, int ScriptTimeoutSeconds, IReadOnlyList<string> Tags, DateTimeOffset? KeepUntil = null);

/// <summary>What a machine backup made (the portal verifies the snapshot in storage before it records a recovery point).</summary>
/// <param name="ApplicationConsistent">The pre-script ran and succeeded.</param>
/// <param name="FilesRead">Files read because they were new or changed (null: not told, e.g. a reused snapshot).</param>
/// <param name="FilesUnchanged">Files whose content was taken from the previous snapshot (null: not told).</param>
public sealed record MachineBackupResult(
    string SnapshotId, long Files, long Bytes, long BytesAdded, IReadOnlyList<string> Warnings, bool ApplicationConsistent, bool Reused,
    long? FilesRead = null, long? FilesUnchanged = null);

/// <summary>Restore paths of a snapshot onto the machine.</summary>
/// <param name="SourceMachineId">Whose repository holds the snapshot: this machine, or another of the vault (then <paramref name="GrantedKey"/> is set).</param>
/// <param name="Paths">Paths inside the snapshot (empty: everything).</param>
/// <param name="Target">The folder to restore into (absolute), or null for the original location.</param>
/// <param name="Conflict">Overwrite, Skip or CreateCopy.</param>
/// <param name="GrantedKey">For another machine's repository: its key sealed to this machine's agreement key (context <see cref="AgentContexts.Grant"/>). Never stored with the job.</param>
/// <param name="Resume">The retry of a failed restore: files already at the target with the point's size and content (and the
/// copies the failed one made) are kept, not restored a second time, as a later attempt of one job keeps them.</param>
public sealed record MachineRestoreInput(
    Guid SourceMachineId, string SnapshotId, IReadOnlyList<string> Paths, string? Target, string Conflict, string? GrantedKey = null, bool Resume = false);

/// <summary>What a machine restore wrote.</summary>
public sealed record MachineRestoreResult(
    long Files, long Bytes, long Skipped, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings, IReadOnlyList<string> Copies, string Destination);

/// <summary>
/// A restore drill on the machine: a point of its own repository, whole or the given files, restored into the agent's
/// drill folder (its <c>Restore:DrillRoot</c>), checked against the point's listing, and deleted again.
/// </summary>
/// <param name="Paths">The sample's files, as the portal chose them (empty: the whole point).</param>
public sealed record MachineDrillInput(string SnapshotId, IReadOnlyList<string> Paths);

/// <summary>What a machine's drill restored and verified; the portal judges it (no problems and a completed restore: passed).</summary>
/// <param name="Files">Files restored with the listed size and modification time (the restore verified their content).</param>
/// <param name="RestoreSeconds">The restore's own time (RTO measured).</param>
/// <param name="StorageReads">The restore's reads from storage, and <paramref name="StorageBytesRead"/> their stored bytes.</param>
/// <param name="Completed">The restore completed (no file failed).</param>
/// <param name="Problems">Each file that did not restore intact, in words (capped; the job's log has them all).</param>
/// <param name="Scratch">The folder it restored into (deleted again).</param>
/// <param name="SetupSeconds">What of the restore's time every restore pays once (<see cref="Operations.RestoreResult.Setup"/>); 0 from older agents.</param>
public sealed record MachineDrillResult(
    string SnapshotId, long Files, long Bytes, double RestoreSeconds, long StorageReads, long StorageBytesRead, bool Completed,
    IReadOnlyList<string> Problems, string Scratch, double SetupSeconds = 0);
