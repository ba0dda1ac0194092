namespace Portal.Features.Jobs;

/// <summary>
/// Tells live pages in this portal instance that a job changed (eShop's OrdersRefreshOnStatusChange pattern):
/// subscribers re-render through <c>InvokeAsync(StateHasChanged)</c> and unsubscribe when disposed.
/// </summary>
public sealed class JobNotifier
{
    public event Func<Job, Task>? Changed;

    public async Task NotifyAsync(Job job)
    {
        if (Changed is not { } handlers)
            return;
        foreach (var handler in handlers.GetInvocationList().Cast<Func<Job, Task>>())
            await handler(job); // a failing page must not stop the job: pages catch their own errors
    }
}
