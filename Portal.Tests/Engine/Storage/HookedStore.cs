using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Storage;

/// <summary>
/// A decorator around a real store for fault injection and pausing (kopia's blobtesting/faulty.go idea):
/// <see cref="BeforePut"/> can fail a put, <see cref="AfterPut"/> runs (and may wait) after a put succeeded.
/// </summary>
public class HookedStore(IObjectStore inner) : IObjectStore
{
    public Func<string, Exception?>? BeforePut { get; set; }
    public Func<string, Task>? AfterPut { get; set; }

    /// <summary>Names committed through a staged put (the others went through <see cref="PutAsync"/>).</summary>
    public System.Collections.Concurrent.ConcurrentBag<string> StagedCommits { get; } = [];

    /// <summary>Names stored through <see cref="PutAsync"/>.</summary>
    public System.Collections.Concurrent.ConcurrentBag<string> Puts { get; } = [];

    /// <summary>The same hooks, with the staged-put ability of the inner store (hooks run on commit).</summary>
    public static HookedStore Create(LocalDirectoryStore inner, bool staged) => staged ? new Staged(inner) : new HookedStore(inner);

    private sealed class Staged(LocalDirectoryStore inner) : HookedStore(inner), IStagedPutStore
    {
        public async Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default) =>
            new HookedObject(this, await inner.BeginPutAsync(prefix, cancellationToken));
    }

    private sealed class HookedObject(HookedStore hooks, IStagedObject inner) : IStagedObject
    {
        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(data, cancellationToken);

        public async Task CommitAsync(string name, CancellationToken cancellationToken = default)
        {
            if (hooks.BeforePut?.Invoke(name) is { } e) throw e;
            await inner.CommitAsync(name, cancellationToken);
            hooks.StagedCommits.Add(name);
            if (hooks.AfterPut is { } after) await after(name);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    public async Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (BeforePut?.Invoke(name) is { } e) throw e;
        await inner.PutAsync(name, data, cancellationToken);
        Puts.Add(name);
        if (AfterPut is { } after) await after(name);
    }

    public Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default) => inner.GetAsync(name, cancellationToken);
    public Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) => inner.ReadRangeAsync(name, offset, destination, cancellationToken);
    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default) => inner.StatAsync(name, cancellationToken);
    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);
    public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
}
