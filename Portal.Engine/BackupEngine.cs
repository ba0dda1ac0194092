using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Engine.Repository;
using Portal.Engine.Storage;

namespace Portal.Engine;

/// <summary>Settings of an engine instance.</summary>
public sealed record EngineOptions
{
    /// <summary>The clock for snapshot times, lock ages and the prune grace period (default: system clock).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Argon2id cost for new key objects (init, change passphrase). Opening uses what each key stores.</summary>
    public KdfParameters Kdf { get; init; } = KdfParameters.Default;
}

/// <summary>
/// The backup engine's one entry point: an opened repository (a vault's data) in an <see cref="IObjectStore"/>.
/// Create one with <see cref="InitAsync"/> or <see cref="OpenAsync"/>. Every operation takes an optional
/// <see cref="IProgress{T}"/> (default: none; reports may come from worker threads) and a
/// <see cref="CancellationToken"/>; a cancelled operation leaves the repository consistent. Instances are safe to use for one operation at a time.
/// </summary>
public sealed class BackupEngine : IDisposable
{
    private readonly Repo _repo;

    private BackupEngine(Repo repo) => _repo = repo;

    /// <summary>The repository's random id.</summary>
    public string RepositoryId => _repo.Config.Id;

    /// <summary>
    /// Key objects that <see cref="OpenAsync"/> skipped (damaged, of an unknown format, or with a key derivation cost out
    /// of range), each in plain words: show them, since whoever relies on such a key can no longer open the repository.
    /// </summary>
    public IReadOnlyList<string> OpenWarnings => _repo.OpenWarnings;

    /// <summary>
    /// Creates a repository in an empty store: a random master key wrapped by <paramref name="passphrase"/>
    /// (at least 16 characters) and the config. Throws <see cref="RepositoryExistsException"/> if one exists.
    /// </summary>
    public static async Task<BackupEngine> InitAsync(IObjectStore store, string passphrase, EngineOptions? options = null,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new EngineOptions();
        progress?.Report(new OperationProgress(OperationPhase.Key, 0, 1, 0, 0));
        var repo = await Repo.InitAsync(store, passphrase, options.Kdf, options.Time, Describe(store), cancellationToken).ConfigureAwait(false);
        progress?.Report(OperationProgress.Final(OperationPhase.Key, 1, 0));
        return new BackupEngine(repo) { Options = options };
    }

    /// <summary>
    /// Opens a repository. Throws <see cref="WrongPassphraseException"/> if the passphrase opens no key,
    /// <see cref="NoUsableKeyException"/> if no key object can be used at all, and
    /// <see cref="RepositoryNotFoundException"/> if the store holds no repository. Unusable key objects next to a good
    /// one are skipped (see <see cref="OpenWarnings"/>).
    /// </summary>
    public static async Task<BackupEngine> OpenAsync(IObjectStore store, string passphrase, EngineOptions? options = null,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new EngineOptions();
        progress?.Report(new OperationProgress(OperationPhase.Key, 0, 1, 0, 0));
        var repo = await Repo.OpenAsync(store, passphrase, options.Time, Describe(store), cancellationToken).ConfigureAwait(false);
        progress?.Report(OperationProgress.Final(OperationPhase.Key, 1, 0));
        return new BackupEngine(repo) { Options = options };
    }

    /// <summary>
    /// Opens a repository with a key from <see cref="ExportKey"/>, without the passphrase: how a host runs scheduled
    /// backups unattended. Throws <see cref="RepositoryKeyMismatchException"/> when the key does not open it.
    /// </summary>
    public static async Task<BackupEngine> OpenWithKeyAsync(IObjectStore store, RepositoryKey key, EngineOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new EngineOptions();
        if (await store.StatAsync(Repo.ConfigName, cancellationToken).ConfigureAwait(false) is null)
            throw new RepositoryNotFoundException(Describe(store));
        var repo = await Repo.OpenWithKeyAsync(store, new Crypto.MasterKey(key.ToBytes()), "", options.Time, cancellationToken).ConfigureAwait(false);
        return new BackupEngine(repo) { Options = options };
    }

    /// <summary>
    /// The repository's unwrapped master key, for a host that keeps it sealed (ASP.NET Core Data Protection, Key Vault)
    /// so that scheduled backups run without the passphrase. Anyone holding these bytes can read the vault: seal them
    /// before storing, never log them.
    /// </summary>
    public RepositoryKey ExportKey() => new(_repo.Key.Export());

    private EngineOptions Options { get; init; } = new();

    /// <summary>
    /// Backs up a folder into a new snapshot. Files whose size, mtime, ctime and inode match the parent snapshot
    /// are not read. Unreadable items are skipped with a warning each (status CompletedWithWarnings).
    /// Throws <see cref="RepositoryLockedException"/> while a prune runs.
    /// </summary>
    public Task<BackupResult> BackupAsync(BackupRequest request, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new BackupOperation(_repo).RunAsync(request, progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>
    /// Backs up a stream (a database dump on a tool's stdout) as the single file <see cref="StreamBackupRequest.FileName"/>
    /// of a new snapshot, deduplicated against everything in the repository, without staging it on disk. The stream is
    /// read to its end; the snapshot is written only when that end is reached normally. An exception from the stream
    /// (throw one when the producing tool fails) propagates and leaves no snapshot. Restore the file with
    /// <see cref="WriteFileAsync"/>. Throws <see cref="RepositoryLockedException"/> while a prune runs.
    /// </summary>
    public Task<BackupResult> BackupStreamAsync(StreamBackupRequest request, Stream source, IProgress<OperationProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        new StreamBackupOperation(_repo).RunAsync(request, source, progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>
    /// Restores a snapshot, or selected paths of it, into a folder. Every chunk is verified before it is written;
    /// names with "..", separators or NUL and existing symlinks on the way are refused, so nothing is written
    /// outside the target. Items that fail are listed in <see cref="RestoreResult.Errors"/>; all others are restored.
    /// </summary>
    public Task<RestoreResult> RestoreAsync(RestoreRequest request, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new RestoreOperation(_repo).RunAsync(request, progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>
    /// What a whole restore of <paramref name="snapshot"/> would write and read from storage (reads and their stored
    /// bytes, counted as <see cref="RestoreResult.StorageReads"/> counts them), from its folder listings and the index
    /// alone, without reading file data: how a restore drill of a sample scales its time to the whole point.
    /// </summary>
    public Task<RestoreSize> MeasureRestoreAsync(string snapshot, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new RestoreSizeOperation(_repo).RunAsync(snapshot, progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>Lists the snapshots (recovery points), oldest first.</summary>
    public Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new ListSnapshotsOperation(_repo).RunAsync(progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>
    /// Lists the snapshots carrying <paramref name="tag"/> (compared exactly, case included), oldest first; empty when
    /// none does. A host that tags each backup with its job (say "job:ID") finds here a snapshot an earlier attempt of a
    /// retried job already wrote, and records it instead of backing up again: a snapshot is listed only once complete.
    /// </summary>
    public Task<IReadOnlyList<SnapshotInfo>> FindSnapshotsByTagAsync(string tag, IProgress<OperationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        return new ListSnapshotsOperation(_repo).RunAsync(progress ?? NoProgress.Instance, cancellationToken, tag);
    }

    /// <summary>Lists the items of a snapshot ("latest", an id or a prefix), all or those under <paramref name="path"/>.</summary>
    public Task<IReadOnlyList<TreeEntry>> ListTreeAsync(string snapshot, string? path = null, IProgress<OperationProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        new ListTreeOperation(_repo).RunAsync(snapshot, path, progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>
    /// As <see cref="ListTreeAsync"/>, entry by entry as the folders are read (the CLI's <c>ls</c> prints the first lines of a
    /// huge tree at once, and memory holds one folder listing per level, not the whole tree).
    /// </summary>
    public IAsyncEnumerable<TreeEntry> StreamTreeAsync(string snapshot, string? path = null, IProgress<OperationProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        new ListTreeOperation(_repo).StreamAsync(snapshot, path, progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>Lists one folder of a snapshot (its entries, not their subtrees); null or "" is the snapshot's root.</summary>
    public Task<IReadOnlyList<TreeEntry>> ListDirectoryAsync(string snapshot, string? path = null, CancellationToken cancellationToken = default) =>
        new BrowseOperation(_repo).ListDirectoryAsync(snapshot, path, cancellationToken);

    /// <summary>
    /// Writes one file of a snapshot to <paramref name="destination"/>, decrypted and verified chunk by chunk (a
    /// download never stages the file on disk). Returns the file's entry (size, mode, time).
    /// </summary>
    public Task<TreeEntry> WriteFileAsync(string snapshot, string path, Stream destination, CancellationToken cancellationToken = default) =>
        new BrowseOperation(_repo).WriteFileAsync(snapshot, path, destination, cancellationToken);

    /// <summary>Lists what was added, removed or modified from snapshot <paramref name="from"/> to <paramref name="to"/>.</summary>
    public Task<IReadOnlyList<DiffEntry>> DiffAsync(string from, string to, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new DiffOperation(_repo).RunAsync(from, to, progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>
    /// Checks the repository's structure; with <paramref name="readData"/> also reads, decrypts and verifies
    /// every blob. Each damaged object is named with the snapshots and files it affects.
    /// </summary>
    public Task<CheckResult> CheckAsync(bool readData = false, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        CheckAsync(new CheckOptions { ReadData = readData }, progress, cancellationToken);

    /// <summary>As <see cref="CheckAsync(bool, IProgress{OperationProgress}?, CancellationToken)"/>, reading all data, none, or a window of the packs.</summary>
    public Task<CheckResult> CheckAsync(CheckOptions options, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new CheckOperation(_repo).RunAsync(options, progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>Removes snapshots by id or unique prefix (all must resolve, or none is removed). Returns the removed ids. Data stays until <see cref="PruneAsync"/>.</summary>
    public Task<IReadOnlyList<string>> ForgetAsync(IEnumerable<string> snapshots, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new ForgetOperation(_repo).RunAsync(snapshots, progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>
    /// Deletes data no snapshot needs. Takes an exclusive lock (throws <see cref="RepositoryLockedException"/>
    /// while a backup runs) and keeps unindexed packs younger than one hour.
    /// </summary>
    public Task<PruneResult> PruneAsync(IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new PruneOperation(_repo).RunAsync(progress ?? NoProgress.Instance, cancellationToken);

    /// <summary>
    /// Lists the repository's locks: which operation on which machine holds each, since when, and whether it is stale (its
    /// process on this machine has ended, or it was not refreshed for 30 minutes). Stale locks never block anything.
    /// </summary>
    public Task<IReadOnlyList<LockInfo>> ListLocksAsync(CancellationToken cancellationToken = default) =>
        new UnlockOperation(_repo).ListAsync(cancellationToken);

    /// <summary>
    /// Removes stale locks (see <see cref="ListLocksAsync"/>). With <paramref name="force"/> live locks are removed too:
    /// only for an operation known to be dead that this machine cannot see (say a machine that was switched off), since
    /// a prune could otherwise delete what a running backup writes. Data is not touched.
    /// </summary>
    public Task<UnlockResult> UnlockAsync(bool force = false, CancellationToken cancellationToken = default) =>
        new UnlockOperation(_repo).RunAsync(force, cancellationToken);

    /// <summary>
    /// Rebuilds the index from the packs' own headers and removes the old index objects: heals stale entries (packs that
    /// are gone), damaged index objects and unindexed packs. Under the exclusive lock (throws
    /// <see cref="RepositoryLockedException"/> while a backup runs). Never deletes a pack.
    /// </summary>
    public Task<RepairIndexResult> RepairIndexAsync(CancellationToken cancellationToken = default) =>
        new RepairIndexOperation(_repo).RunAsync(cancellationToken);

    /// <summary>
    /// Rewrites every snapshot that refers to data which is truly gone (no readable copy anywhere) without the files
    /// concerned, tagged "repaired", and removes the original, so the rest stays restorable and check passes. With
    /// <paramref name="readData"/> every chunk is read and verified; else a chunk counts as there when its pack is.
    /// Under the exclusive lock.
    /// </summary>
    public Task<RepairSnapshotsResult> RepairSnapshotsAsync(bool readData = false, CancellationToken cancellationToken = default) =>
        new RepairSnapshotsOperation(_repo).RunAsync(readData, cancellationToken);

    /// <summary>
    /// Stores <paramref name="document"/> as the vault manifest (a small sealed <c>vault/</c> object) and removes older
    /// ones: what the owner needs to rebuild its catalog from the repository alone. Never read by backup, check or prune.
    /// </summary>
    public Task<VaultManifest> WriteVaultManifestAsync(string document, CancellationToken cancellationToken = default) =>
        new VaultManifestOperation(_repo).WriteAsync(document, cancellationToken);

    /// <summary>
    /// Holds existing snapshots (id or unique prefix → time): forget refuses each until then, as a snapshot written with
    /// <see cref="BackupRequest.KeepUntil"/>; those in <paramref name="untilReleased"/> are held with no end (a point kept
    /// until deleted) until <see cref="ReleaseHoldsAsync"/>. For points taken before their vault became immutable. Dated
    /// holds only grow. Returns how many snapshots are held.
    /// </summary>
    public Task<int> HoldAsync(IReadOnlyDictionary<string, DateTimeOffset> holds, IReadOnlyCollection<string>? untilReleased = null, CancellationToken cancellationToken = default) =>
        new HoldOperation(_repo).AddAsync(holds, untilReleased, cancellationToken);

    /// <summary>
    /// Releases the holds with no end (the owner turned an unlocked immutability off); dated holds stay until their time.
    /// Returns how many snapshots were released.
    /// </summary>
    public Task<int> ReleaseHoldsAsync(CancellationToken cancellationToken = default) =>
        new HoldOperation(_repo).ReleaseAsync(cancellationToken);

    /// <summary>The newest readable vault manifest, or null when the repository has none (written before manifests existed).</summary>
    public Task<VaultManifest?> ReadVaultManifestAsync(CancellationToken cancellationToken = default) =>
        new VaultManifestOperation(_repo).ReadAsync(cancellationToken);

    /// <summary>Replaces the key object this engine was opened with by one for <paramref name="newPassphrase"/>. Data is not touched.</summary>
    public async Task ChangePassphraseAsync(string newPassphrase, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        progress?.Report(new OperationProgress(OperationPhase.Key, 0, 1, 0, 0));
        await _repo.ReplaceKeyAsync(newPassphrase, Options.Kdf, cancellationToken).ConfigureAwait(false);
        progress?.Report(OperationProgress.Final(OperationPhase.Key, 1, 0));
    }

    /// <summary>Wipes the master key from memory.</summary>
    public void Dispose() => _repo.Dispose();

    private static string Describe(IObjectStore store) => store.ToString() ?? store.GetType().Name;
}
