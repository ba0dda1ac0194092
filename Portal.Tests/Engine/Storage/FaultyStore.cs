using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Storage;

/// <summary>
/// Fault injection around a real store (kopia's blobtesting/faulty.go): while <see cref="Down"/> every call
/// fails transiently, as an unreachable replica or region does; <see cref="FailNext"/> queues one-off errors.
/// Staged puts (when the inner store stages) fail at their start and commit like a call, and each write while
/// <see cref="Down"/>, as a replica lost in the middle of an upload.
/// </summary>
public sealed class FaultyStore(IObjectStore inner) : IStagedPutStore
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

    public bool CanStage => inner is IStagedPutStore { CanStage: true };

    public async Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default)
    {
        Enter();
        return new FaultyObject(this, await ((IStagedPutStore)inner).BeginPutAsync(prefix, cancellationToken));
    }

    private sealed class FaultyObject(FaultyStore store, IStagedObject inner) : IStagedObject
    {
        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
            store.Down ? throw new StoreException("replica unreachable (injected)", isTransient: true) : inner.WriteAsync(data, cancellationToken);

        public Task CommitAsync(string name, CancellationToken cancellationToken = default)
        {
            store.Enter();
            return inner.CommitAsync(name, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
