using Portal.Engine.Platform;
using Portal.Engine.Storage;

namespace Portal.Engine.Repository;

/// <summary>
/// Cooperative repository locks (sealed <c>locks/</c> objects). Backups take shared locks, prune an
/// exclusive one. Protocol: write own lock, then list; if a conflicting live lock exists, remove own and
/// fail. Two racing writers both see each other and both back off, so prune and backup never overlap.
/// Restore, check and downloads take reader locks (<see cref="AcquireReaderAsync"/>): shared, so a prune that starts
/// while they read backs off, but they go on, with a warning, when they cannot lock (read-only storage) or
/// when an exclusive lock is already there (a recovery must not wait half an hour for a crashed prune's lock).
/// A lock is stale (ignored, and removed by <see cref="Operations.UnlockOperation"/>) when its process ran in this
/// machine's process space and has ended (pid and start time checked, see <see cref="ProcessIdentity"/>), or, for a lock
/// of another machine, when it was not refreshed for <see cref="StaleAfter"/>: a heartbeat rewrites a held lock every
/// <see cref="RefreshEvery"/> whatever the operation is doing, and operations refresh it on their way as well.
/// </summary>
internal sealed class RepoLock : IAsyncDisposable
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromMinutes(5);
    private readonly Repo _repo;
    private readonly LockFile _file;
    private readonly SemaphoreSlim _refresh = new(1);
    private readonly ITimer _heartbeat;
    private string _name;
    private bool _refreshGaveUp, _disposed;
    private StoreException? _heartbeatError;

    private RepoLock(Repo repo, LockFile file, string name)
    {
        _repo = repo;
        _file = file;
        _name = name;
        _heartbeat = repo.Time.CreateTimer(static self => _ = ((RepoLock)self!).BeatAsync(), this, RefreshEvery, RefreshEvery);
    }

    public static async Task<RepoLock> AcquireAsync(Repo repo, bool exclusive, string operation, CancellationToken ct)
    {
        var file = NewLockFile(repo, exclusive, operation);
        var name = await repo.SaveJsonAsync(Repo.LocksPrefix, file, RepoJson.Default.LockFile, ct).ConfigureAwait(false);
        var mine = new RepoLock(repo, file, name);
        try
        {
            if (await FindConflictAsync(repo, name, exclusive, ct).ConfigureAwait(false) is { } theirs)
                throw new RepositoryLockedException($"The repository is locked by {Describe(theirs)}; try again later.");
        }
        catch
        {
            await mine.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return mine;
    }

    /// <summary>
    /// A shared lock for an operation that only reads (restore, check, download). Returns no lock and a warning when the lock
    /// cannot be written (read-only storage), and the lock with a warning when an exclusive lock is there already
    /// (it may belong to a prune that crashed, and a recovery must not wait for it to go stale).
    /// </summary>
    public static async Task<(RepoLock? Lock, string? Warning)> AcquireReaderAsync(Repo repo, string operation, CancellationToken ct)
    {
        var file = NewLockFile(repo, exclusive: false, operation);
        string name;
        try
        {
            name = await repo.SaveJsonAsync(Repo.LocksPrefix, file, RepoJson.Default.LockFile, ct).ConfigureAwait(false);
        }
        catch (StoreException e)
        {
            return (null, $"The repository could not be locked ({e.Message}); a prune started during this {operation} could remove data it reads.");
        }
        var mine = new RepoLock(repo, file, name);
        try
        {
            return await FindConflictAsync(repo, name, exclusive: false, ct).ConfigureAwait(false) is { } theirs
                ? (mine, $"The repository is locked by {Describe(theirs)}: if that is still running, data it moves may be reported missing; run the {operation} again once it has ended.")
                : (mine, null);
        }
        catch
        {
            await mine.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The first live lock that conflicts with ours (any other lock when ours is exclusive, else an exclusive one).</summary>
    private static async Task<LockFile?> FindConflictAsync(Repo repo, string own, bool exclusive, CancellationToken ct)
    {
        foreach (var other in await repo.ListNamesAsync(Repo.LocksPrefix, ct).ConfigureAwait(false))
        {
            if (other == own) continue;
            LockFile theirs;
            try { theirs = await repo.LoadJsonAsync(other, RepoJson.Default.LockFile, ct).ConfigureAwait(false); }
            catch (DamagedObjectException) { continue; } // vanished (released) or unreadable: not a live lock
            if (Staleness(theirs, repo.Time.GetUtcNow()) is not null) continue;
            if (exclusive || theirs.Exclusive) return theirs;
        }
        return null;
    }

    private static LockFile NewLockFile(Repo repo, bool exclusive, string operation) => new()
    {
        Exclusive = exclusive, Operation = operation, Host = Environment.MachineName,
        Pid = Environment.ProcessId, Time = repo.Time.GetUtcNow(), Space = ProcessIdentity.Space, Start = ProcessIdentity.CurrentStart,
    };

    internal static string Describe(LockFile l) => $"{l.Operation} on {l.Host} (pid {l.Pid}) since {l.Time:u}";

    /// <summary>Why <paramref name="l"/> is stale at <paramref name="now"/>, or null while it may belong to a running operation.</summary>
    internal static string? Staleness(LockFile l, DateTimeOffset now) => ProcessIdentity.Check(l.Space, l.Pid, l.Start) switch
    {
        ProcessState.Running => null,
        ProcessState.Ended => "its process on this machine has ended",
        _ => now - l.Time > StaleAfter ? $"not refreshed for more than {StaleAfter.TotalMinutes:N0} minutes" : null,
    };

    /// <summary>
    /// Rewrites the lock with a fresh time if it is due (locks are write-once, so a new object replaces the old). Throws
    /// the store's error when the rewrite fails, or when the heartbeat's last rewrite failed: a writer then stops.
    /// </summary>
    public async Task RefreshIfDueAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _heartbeatError, null) is { } failed) throw failed;
        await RefreshCoreAsync(ct).ConfigureAwait(false);
    }

    private async Task RefreshCoreAsync(CancellationToken ct)
    {
        if (_refreshGaveUp || _repo.Time.GetUtcNow() - _file.Time < RefreshEvery) return;
        await _refresh.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_disposed || _refreshGaveUp || _repo.Time.GetUtcNow() - _file.Time < RefreshEvery) return;
            _file.Time = _repo.Time.GetUtcNow();
            var old = _name;
            try
            {
                _name = await _repo.SaveJsonAsync(Repo.LocksPrefix, _file, RepoJson.Default.LockFile, ct).ConfigureAwait(false);
                await _repo.Store.DeleteAsync(old, ct).ConfigureAwait(false);
            }
            catch (StoreException)
            {
                _refreshGaveUp = true; // under the semaphore: every later caller sees it (a backup stops on the error anyway)
                throw;
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The heartbeat: keeps the lock fresh while an operation spends long on one file or one pack.</summary>
    private async Task BeatAsync()
    {
        try
        {
            await RefreshCoreAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Nobody awaits the heartbeat: the operation's next own refresh reports the failure.
            _refreshGaveUp = true;
            _heartbeatError = e as StoreException ?? new StoreException(e.Message, isTransient: false, e);
        }
    }

    /// <summary>
    /// <see cref="RefreshIfDueAsync"/> for a reader: a store error does not stop a restore, check or download (the lock
    /// then goes stale, and a prune may start). Returns the error's message the first time; after a failure it stops
    /// trying (no failing write per file for the rest of a long restore) and returns null.
    /// </summary>
    public async Task<string?> TryRefreshIfDueAsync(CancellationToken ct)
    {
        try
        {
            await RefreshIfDueAsync(ct).ConfigureAwait(false);
            return null;
        }
        catch (StoreException e)
        {
            return $"The repository lock could not be refreshed ({e.Message}); a prune started after {StaleAfter.TotalMinutes:N0} minutes could remove data this operation reads.";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _heartbeat.DisposeAsync().ConfigureAwait(false);
        await _refresh.WaitAsync().ConfigureAwait(false);
        _disposed = true; // a heartbeat still on its way stops before writing a lock nobody would remove
        _refresh.Release();
        try { await _repo.Store.DeleteAsync(_name, CancellationToken.None).ConfigureAwait(false); }
        catch (StoreException) { /* a leftover lock goes stale and is then ignored */ }
    }
}
