namespace Portal.Features.Common;

/// <summary>What a subscription returns: runs its undo once, however often it is disposed.</summary>
public sealed class Unsubscriber(Action undo) : IDisposable
{
    private int disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
            undo();
    }
}
