namespace Portal.Engine.Storage;

/// <summary>
/// Optional ability of a store: list the "folders" right under a prefix (the next '/'-separated segment of the names
/// below it) without listing every object inside them. Local files: the subdirectories; Azure Blob: a listing by hierarchy
/// with '/' as the delimiter. Decorators (retry, replication) implement it always and answer for the stores they wrap;
/// <see cref="FolderListing.ListFoldersAsync"/> falls back to a full listing for a store without it.
/// </summary>
public interface IFolderListingStore : IObjectStore
{
    /// <summary>Whether <see cref="ListFoldersAsync"/> works (a decorator answers for the store it wraps).</summary>
    bool CanListFolders => true;

    /// <summary>
    /// The names of the folders right under <paramref name="prefix"/> (which ends with '/', or is empty), without the
    /// prefix and without a trailing '/': for <c>vaults/1/machines/</c>, the machine folders' names. A folder may be
    /// empty or hold only a writer's temporary files; callers check what they need inside it. In no particular order.
    /// </summary>
    IAsyncEnumerable<string> ListFoldersAsync(string prefix, CancellationToken cancellationToken = default);
}

/// <summary>Folder listing over any store.</summary>
public static class FolderListing
{
    /// <summary>
    /// The folders right under <paramref name="prefix"/> (see <see cref="IFolderListingStore.ListFoldersAsync"/>), by the
    /// store's own ability when it has it, else from a listing of every object under the prefix. Distinct, sorted.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ListFoldersAsync(this IObjectStore store, string prefix, CancellationToken cancellationToken = default)
    {
        if (prefix.Length > 0 && !prefix.EndsWith('/'))
            throw new ArgumentException("A folder prefix ends with '/'.", nameof(prefix));
        var found = new SortedSet<string>(StringComparer.Ordinal);
        if (store is IFolderListingStore { CanListFolders: true } folders)
        {
            await foreach (var name in folders.ListFoldersAsync(prefix, cancellationToken).ConfigureAwait(false))
                found.Add(name);
            return [.. found];
        }

        await foreach (var info in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            var rest = info.Name.AsSpan(prefix.Length);
            if (rest.IndexOf('/') is var slash and > 0)
                found.Add(rest[..slash].ToString());
        }

        return [.. found];
    }

}
