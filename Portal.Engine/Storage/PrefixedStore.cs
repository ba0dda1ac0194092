using System.Runtime.CompilerServices;

namespace Portal.Engine.Storage;

/// <summary>One repository inside a shared store: every name gets <c>prefix/</c> in front (a vault in a region's replica).</summary>
public sealed class PrefixedStore : IObjectStore
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

    private string Full(string name)
    {
        ObjectName.Validate(name);
        return prefix + name;
    }
}
