namespace Portal.Engine.Repository;

/// <summary>
/// Cooperative repository locks (sealed <c>locks/</c> objects). Backups take shared locks, prune an
/// exclusive one. Protocol: write own lock, then list; if a conflicting live lock exists, remove own and
/// fail. Two racing writers both see each other and both back off, so prune and backup never overlap.
/// Restore, check and downloads take reader locks (<see cref="AcquireReaderAsync"/>): shared, so a prune that starts
/// while they read backs off, but they go on, with a warning, when they cannot lock (read-only storage) or
/// when an exclusive lock is already there (a recovery must not wait half an hour for a crashed prune's lock).
/// A lock not refreshed for <see cref="StaleAfter"/> is considered abandoned (a crashed process).
/// </summary>
internal sealed class RepoLock : IAsyncDisposable
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromMinutes(5);
    private readonly Repo _repo;
    private readonly LockFile _file;
    private readonly SemaphoreSlim _refresh = new(1);
    private string _name;
    private bool _refreshGaveUp;

    private RepoLock(Repo repo, LockFile file, string name)
    {
        _repo = repo;
        _file = file;
        _name = name;
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
        catch (Storage.StoreException e)
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
            if (repo.Time.GetUtcNow() - theirs.Time > StaleAfter) continue;
            if (exclusive || theirs.Exclusive) return theirs;
        }
        return null;
    }

    private static LockFile NewLockFile(Repo repo, bool exclusive, string operation) => new()
    {
        Exclusive = exclusive, Operation = operation, Host = Environment.MachineName,
        Pid = Environment.ProcessId, Time = repo.Time.GetUtcNow(),
    };

    private static string Describe(LockFile l) => $"{l.Operation} on {l.Host} (pid {l.Pid}) since {l.Time:u}";

    /// <summary>Rewrites the lock with a fresh time if it is due (locks are write-once, so a new object replaces the old).</summary>
    public async Task RefreshIfDueAsync(CancellationToken ct)
    {
        if (_refreshGaveUp || _repo.Time.GetUtcNow() - _file.Time < RefreshEvery) return;
        await _refresh.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_refreshGaveUp || _repo.Time.GetUtcNow() - _file.Time < RefreshEvery) return;
            _file.Time = _repo.Time.GetUtcNow();
            var old = _name;
            try
            {
                _name = await _repo.SaveJsonAsync(Repo.LocksPrefix, _file, RepoJson.Default.LockFile, ct).ConfigureAwait(false);
                await _repo.Store.DeleteAsync(old, ct).ConfigureAwait(false);
            }
            catch (Storage.StoreException)
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
        catch (Storage.StoreException e)
        {
            return $"The repository lock could not be refreshed ({e.Message}); a prune started after {StaleAfter.TotalMinutes:N0} minutes could remove data this operation reads.";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { await _repo.Store.DeleteAsync(_name, CancellationToken.None).ConfigureAwait(false); }
        catch (Storage.StoreException) { /* a leftover lock goes stale and is then ignored */ }
    }
}
