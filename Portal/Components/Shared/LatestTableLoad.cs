using MudBlazor;

namespace Portal.Components.Shared;

/// <summary>
/// Makes a <c>MudTable</c>'s <c>ServerData</c> "last started wins". MudTable keeps whatever each call returns when
/// that call completes: it cancels the previous call's token, but a call that already has its rows still returns
/// them, and a call that observes the cancellation throws out of <c>ReloadServerData</c>. Pages reload on every
/// job or alert change and after every action, so loads overlap; without this, an older load that finishes last puts
/// stale rows back (a finished job shown as running, a resolved alert still listed) until the next change.
/// </summary>
public sealed class LatestTableLoad<T>
{
    private readonly Lock _lock = new();
    private long _started, _shown;
    private TableData<T> _latest = new() { Items = [], TotalItems = 0 };

    /// <summary>Runs <paramref name="load"/>; returns its rows, or a newer load's when one started later and finished first.</summary>
    public async Task<TableData<T>> RunAsync(Func<CancellationToken, Task<TableData<T>>> load, CancellationToken ct)
    {
        long mine;
        lock (_lock) mine = ++_started;
        TableData<T> rows;
        try
        {
            rows = await load(ct);
        }
        catch (OperationCanceledException) when (IsSuperseded(mine))
        {
            lock (_lock) return _latest; // the newer load's rows will replace these when it completes
        }
        lock (_lock)
        {
            if (mine > _shown)
            {
                _shown = mine;
                _latest = rows;
            }
            return _latest;
        }
    }

    private bool IsSuperseded(long load)
    {
        lock (_lock) return load < _started;
    }
}
