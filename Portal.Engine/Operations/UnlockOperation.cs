using Portal.Engine.Repository;
using Portal.Engine.Storage;

namespace Portal.Engine.Operations;

/// <summary>
/// Lists the repository's locks and removes the stale ones (restic's <c>unlock</c>): a lock whose process on this
/// machine has ended, one of another machine not refreshed for <see cref="RepoLock.StaleAfter"/>, and lock objects that
/// cannot be read (every operation ignores those already). A live lock is removed only with <c>force</c>: if its
/// operation still runs, a prune could then delete data a backup is writing, so the caller warns.
/// </summary>
internal sealed class UnlockOperation(Repo repo)
{
    public async Task<IReadOnlyList<LockInfo>> ListAsync(CancellationToken ct)
    {
        var now = repo.Time.GetUtcNow();
        var locks = new List<LockInfo>();
        foreach (var name in await repo.ListNamesAsync(Repo.LocksPrefix, ct).ConfigureAwait(false))
        {
            try
            {
                var l = await repo.LoadJsonAsync(name, RepoJson.Default.LockFile, ct).ConfigureAwait(false);
                locks.Add(new LockInfo(name, l.Operation, l.Host, l.Pid, l.Exclusive, l.Time, RepoLock.Staleness(l, now)));
            }
            catch (DamagedObjectException e) when (e.InnerException is not ObjectNotFoundException)
            {
                locks.Add(new LockInfo(name, "unreadable", "", 0, false, DateTimeOffset.MinValue, "it cannot be read (no operation heeds it)"));
            }
            catch (DamagedObjectException)
            {
                // released between the listing and the read
            }
        }
        return locks.OrderBy(l => l.Since).ThenBy(l => l.ObjectName, StringComparer.Ordinal).ToList();
    }

    public async Task<UnlockResult> RunAsync(bool force, CancellationToken ct)
    {
        var removed = new List<LockInfo>();
        var kept = new List<LockInfo>();
        foreach (var l in await ListAsync(ct).ConfigureAwait(false))
        {
            if (!l.IsStale && !force)
            {
                kept.Add(l);
                continue;
            }
            try { await repo.Store.DeleteAsync(l.ObjectName, ct).ConfigureAwait(false); }
            catch (ObjectNotFoundException) { continue; } // its operation ended and released it meanwhile
            removed.Add(l);
        }
        return new UnlockResult { Removed = removed, KeptLive = kept };
    }
}
