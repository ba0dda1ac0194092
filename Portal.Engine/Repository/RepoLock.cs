namespace Portal.Engine.Repository;

/// <summary>
/// Cooperative repository locks (sealed <c>locks/</c> objects). Backups take shared locks, prune an
/// exclusive one. Protocol: write own lock, then list; if a conflicting live lock exists, remove own and
/// fail. Two racing writers both see each other and both back off, so prune and backup never overlap.
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

    private RepoLock(Repo repo, LockFile file, string name)
    {
        _repo = repo;
        _file = file;
        _name = name;
    }

    public static async Task<RepoLock> AcquireAsync(Repo repo, bool exclusive, string operation, CancellationToken ct)
    {
        var file = new LockFile
        {
            Exclusive = exclusive, Operation = operation, Host = Environment.MachineName,
            Pid = Environment.ProcessId, Time = repo.Time.GetUtcNow(),
        };
        var name = await repo.SaveJsonAsync(Repo.LocksPrefix, file, RepoJson.Default.LockFile, ct).ConfigureAwait(false);
        var mine = new RepoLock(repo, file, name);
        try
        {
            foreach (var other in await repo.ListNamesAsync(Repo.LocksPrefix, ct).ConfigureAwait(false))
            {
                if (other == name) continue;
                LockFile theirs;
                try { theirs = await repo.LoadJsonAsync(other, RepoJson.Default.LockFile, ct).ConfigureAwait(false); }
                catch (DamagedObjectException) { continue; } // vanished (released) or unreadable: not a live lock
                if (repo.Time.GetUtcNow() - theirs.Time > StaleAfter) continue;
                if (exclusive || theirs.Exclusive)
                    throw new RepositoryLockedException(
                        $"The repository is locked by {theirs.Operation} on {theirs.Host} (pid {theirs.Pid}) since {theirs.Time:u}; try again later.");
            }
        }
        catch
        {
            await mine.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return mine;
    }

    /// <summary>Rewrites the lock with a fresh time if it is due (locks are write-once, so a new object replaces the old).</summary>
    public async Task RefreshIfDueAsync(CancellationToken ct)
    {
        if (_repo.Time.GetUtcNow() - _file.Time < RefreshEvery) return;
        await _refresh.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_repo.Time.GetUtcNow() - _file.Time < RefreshEvery) return;
            _file.Time = _repo.Time.GetUtcNow();
            var old = _name;
            _name = await _repo.SaveJsonAsync(Repo.LocksPrefix, _file, RepoJson.Default.LockFile, ct).ConfigureAwait(false);
            await _repo.Store.DeleteAsync(old, ct).ConfigureAwait(false);
        }
        finally
        {
            _refresh.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { await _repo.Store.DeleteAsync(_name, CancellationToken.None).ConfigureAwait(false); }
        catch (Storage.StoreException) { /* a leftover lock goes stale and is then ignored */ }
    }
}
