using MudBlazor;
using Portal.Components.Shared;

namespace Portal.Tests.Components;

/// <summary>
/// Tables reload on every change and action, so loads overlap; what MudTable shows is what each load returns when it
/// completes. These pin that an older load finishing last cannot put stale rows back.
/// </summary>
public sealed class LatestTableLoadTests
{
    private static TableData<string> Rows(params string[] rows) => new() { Items = rows, TotalItems = rows.Length };

    [Fact]
    public async Task An_older_load_that_finishes_last_returns_the_newer_loads_rows()
    {
        var loads = new LatestTableLoad<string>();
        var older = new TaskCompletionSource<TableData<string>>();
        var newer = new TaskCompletionSource<TableData<string>>();
        var first = loads.RunAsync(_ => older.Task, default);   // started before the alert was resolved
        var second = loads.RunAsync(_ => newer.Task, default);  // started after

        newer.SetResult(Rows());
        Assert.Empty((await second).Items!);
        older.SetResult(Rows("alert still active"));
        Assert.Empty((await first).Items!); // what the table keeps last: the newer rows
    }

    [Fact]
    public async Task Loads_that_finish_in_order_each_return_their_own_rows()
    {
        var loads = new LatestTableLoad<string>();
        Assert.Equal(["a"], (await loads.RunAsync(_ => Task.FromResult(Rows("a")), default)).Items!);
        var older = new TaskCompletionSource<TableData<string>>();
        var newer = new TaskCompletionSource<TableData<string>>();
        var first = loads.RunAsync(_ => older.Task, default);
        var second = loads.RunAsync(_ => newer.Task, default);
        older.SetResult(Rows("b"));
        Assert.Equal(["b"], (await first).Items!);
        newer.SetResult(Rows("c"));
        Assert.Equal(["c"], (await second).Items!);
    }

    [Fact]
    public async Task A_superseded_load_that_is_cancelled_does_not_throw_and_only_a_current_one_does()
    {
        var loads = new LatestTableLoad<string>();
        await loads.RunAsync(_ => Task.FromResult(Rows("shown")), default);
        using var cancel = new CancellationTokenSource();
        var older = loads.RunAsync(async token => { await Task.Delay(Timeout.Infinite, token); return Rows("never"); }, cancel.Token);
        var newer = new TaskCompletionSource<TableData<string>>();
        var second = loads.RunAsync(_ => newer.Task, default);
        await cancel.CancelAsync(); // what MudTable does to the previous load when it starts the next one

        Assert.Equal(["shown"], (await older).Items!); // the newer load's rows replace these when it completes
        newer.SetResult(Rows("fresh"));
        Assert.Equal(["fresh"], (await second).Items!);

        using var alone = new CancellationTokenSource();
        await alone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loads.RunAsync(async token => { await Task.Delay(Timeout.Infinite, token); return Rows(); }, alone.Token));
    }
}
