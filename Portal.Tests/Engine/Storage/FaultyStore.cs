using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Storage;

/// <summary>
/// Fault injection around a real store (kopia's blobtesting/faulty.go): while <see cref="Down"/> every call
/// fails transiently, as an unreachable replica or region does; <see cref="FailNext"/> queues one-off errors.
/// </summary>
public sealed class FaultyStore(IObjectStore inner) : IObjectStore
{
    private readonly Queue<StoreException> failures = new();
    private int calls;

    public bool Down { get; set; }
    public int Calls => Volatile.Read(ref calls);

    public void FailNext(int times, bool transient, string message = "503 Server Busy")
    {
        lock (failures)
        {
            for (var i = 0; i < times; i++) failures.Enqueue(new StoreException(message, transient));
        }
    }

    private void Enter()
    {
        Interlocked.Increment(ref calls);
        if (Down) throw new StoreException("replica unreachable (injected)", isTransient: true);
        lock (failures)
        {
            if (failures.TryDequeue(out var e)) throw e;
        }
    }

    public Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Enter();
        return inner.PutAsync(name, data, cancellationToken);
    }

    public Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        Enter();
        return inner.GetAsync(name, cancellationToken);
    }

    public Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        Enter();
        return inner.ReadRangeAsync(name, offset, destination, cancellationToken);
    }

    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default)
    {
        Enter();
        return inner.StatAsync(name, cancellationToken);
    }

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        Enter();
        return inner.ListAsync(prefix, cancellationToken);
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        Enter();
        return inner.DeleteAsync(name, cancellationToken);
    }
}
