using System.Runtime.CompilerServices;

namespace Portal.Engine.Storage;

/// <summary>
/// One repository inside a shared store: every name gets <c>prefix/</c> in front (a vault in a region's replica).
/// Staged puts are forwarded (with the prefix) when the inner store can stage.
/// </summary>
public sealed class PrefixedStore : IStagedPutStore
{
    private readonly IObjectStore inner;
    private readonly string prefix;

    /// <summary>A view of <paramref name="inner"/> under <paramref name="prefix"/> (valid object-name segments, no trailing '/').</summary>
    public PrefixedStore(IObjectStore inner, string prefix)
    {
        ObjectName.Validate(prefix);
        this.inner = inner;
        this.prefix = prefix + "/";
    }

    /// <inheritdoc />
    public Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        inner.PutAsync(Full(name), data, cancellationToken);

    /// <inheritdoc />
    public Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default) => inner.GetAsync(Full(name), cancellationToken);

    /// <inheritdoc />
    public Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        inner.ReadRangeAsync(Full(name), offset, destination, cancellationToken);

    /// <inheritdoc />
    public async Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default) =>
        await inner.StatAsync(Full(name), cancellationToken).ConfigureAwait(false) is { } info ? info with { Name = name } : null;

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string listPrefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(listPrefix);
        await foreach (var info in inner.ListAsync(prefix + listPrefix, cancellationToken).ConfigureAwait(false))
            yield return info with { Name = info.Name[prefix.Length..] };
    }

    /// <inheritdoc />
    public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(Full(name), cancellationToken);

    /// <inheritdoc />
    public bool CanStage => inner is IStagedPutStore { CanStage: true };

    /// <inheritdoc />
    public async Task<IStagedObject> BeginPutAsync(string stagePrefix, CancellationToken cancellationToken = default)
    {
        if (inner is not IStagedPutStore { CanStage: true } staged)
            throw new NotSupportedException("The wrapped store cannot stage objects (check CanStage first).");
        ObjectName.ValidatePrefix(stagePrefix);
        return new PrefixedObject(this, await staged.BeginPutAsync(prefix + stagePrefix, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public bool CanStageNamed => inner is IStagedPutStore { CanStageNamed: true };

    /// <inheritdoc />
    public async Task<IStagedObject> BeginNamedPutAsync(string name, CancellationToken cancellationToken = default)
    {
        if (inner is not IStagedPutStore { CanStageNamed: true } staged)
            throw new NotSupportedException("The wrapped store cannot stage objects (check CanStageNamed first).");
        return new PrefixedObject(this, await staged.BeginNamedPutAsync(Full(name), cancellationToken).ConfigureAwait(false));
    }

    private sealed class PrefixedObject(PrefixedStore store, IStagedObject inner) : IStagedObject
    {
        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(data, cancellationToken);
        public Task CommitAsync(string name, CancellationToken cancellationToken = default) => inner.CommitAsync(store.Full(name), cancellationToken);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private string Full(string name)
    {
        ObjectName.Validate(name);
        return prefix + name;
    }
}
