using System.Runtime.CompilerServices;
using Portal.Engine.Platform;

namespace Portal.Engine.Storage;

/// <summary>
/// A store in a local (or mounted) directory: one file per object. A put writes a temporary file in the
/// object's own directory, flushes it to disk, moves it into place without replacing anything and flushes
/// the directory, so a crash never leaves a torn object under a real name.
/// </summary>
public sealed class LocalDirectoryStore : IStagedPutStore, IFolderListingStore
{
    private const string TempMarker = "#tmp-"; // '#' is not a valid name character, so list never shows temps
    private readonly string _root;

    /// <summary>A store rooted at <paramref name="root"/>; the folder is created by the first write, never by a read.</summary>
    public LocalDirectoryStore(string root) => _root = Path.GetFullPath(root);

    /// <summary>The store's root directory.</summary>
    public string Root => _root;

    /// <summary>The root directory, as shown in messages.</summary>
    public override string ToString() => _root;

    /// <inheritdoc />
    public async Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        var path = PathOf(name);
        if (File.Exists(path))
        {
            await EnsureSameContentAsync(name, path, data, cancellationToken).ConfigureAwait(false);
            return;
        }
        var dir = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(dir, TempMarker + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(dir);
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                await fs.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                fs.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // A concurrent writer won the race: fine if it wrote the same bytes.
                await EnsureSameContentAsync(name, path, data, cancellationToken).ConfigureAwait(false);
            }
            Native.FsyncDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Map(name, e);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <inheritdoc />
    public async Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        try
        {
            return await File.ReadAllBytesAsync(PathOf(name), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Map(name, e);
        }
    }

    /// <inheritdoc />
    public async Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var length = destination.Length;
        try
        {
            using var handle = File.OpenHandle(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.Read);
            var size = RandomAccess.GetLength(handle);
            if (offset + length > size) throw new ObjectTruncatedException(name, size, offset + length);
            var done = 0;
            while (done < length)
            {
                var n = await RandomAccess.ReadAsync(handle, destination[done..], offset + done, cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new ObjectTruncatedException(name, offset + done, offset + length);
                done += n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Map(name, e);
        }
    }

    /// <inheritdoc />
    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        var fi = new FileInfo(PathOf(name));
        return Task.FromResult(fi.Exists ? new ObjectInfo(name, fi.Length, fi.LastWriteTimeUtc) : null);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        var slash = prefix.LastIndexOf('/');
        var dir = slash < 0 ? _root : PathOf(prefix[..slash]);
        if (!Directory.Exists(dir)) yield break;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 };
        foreach (var fi in new DirectoryInfo(dir).EnumerateFiles("*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetRelativePath(_root, fi.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Contains('#')) continue;
            FileInfo info = fi;
            long length;
            try { length = info.Length; } catch (FileNotFoundException) { continue; }
            yield return new ObjectInfo(name, length, info.LastWriteTimeUtc);
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListFoldersAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        var dir = prefix.Length == 0 ? _root : PathOf(prefix.TrimEnd('/'));
        if (!Directory.Exists(dir)) yield break;
        foreach (var sub in new DirectoryInfo(dir).EnumerateDirectories("*", new EnumerationOptions { IgnoreInaccessible = false, AttributesToSkip = 0 }))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return sub.Name;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        try
        {
            File.Delete(PathOf(name)); // no error when missing
            return Task.CompletedTask;
        }
        catch (DirectoryNotFoundException)
        {
            return Task.CompletedTask;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Map(name, e);
        }
    }

    /// <inheritdoc />
    public Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        var slash = prefix.LastIndexOf('/');
        var dir = slash < 0 ? _root : PathOf(prefix[..slash]);
        try
        {
            Directory.CreateDirectory(dir);
            var temp = Path.Combine(dir, TempMarker + Guid.NewGuid().ToString("N"));
            var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 256 * 1024);
            return Task.FromResult<IStagedObject>(new StagedFile(this, prefix, temp, fs));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Map(prefix, e);
        }
    }

    private sealed class StagedFile(LocalDirectoryStore store, string prefix, string temp, FileStream fs) : IStagedObject
    {
        private bool _closed;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            try { await fs.WriteAsync(data, cancellationToken).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Map(temp, e); }
        }

        public async Task CommitAsync(string name, CancellationToken cancellationToken = default)
        {
            ObjectName.Validate(name);
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) throw new InvalidObjectNameException(name);
            cancellationToken.ThrowIfCancellationRequested();
            var path = store.PathOf(name);
            try
            {
                fs.Flush(flushToDisk: true);
                await fs.DisposeAsync().ConfigureAwait(false);
                _closed = true;
                var dir = Path.GetDirectoryName(path)!;
                Directory.CreateDirectory(dir);
                try
                {
                    File.Move(temp, path, overwrite: false);
                }
                catch (IOException) when (File.Exists(path))
                {
                    await EnsureSameContentAsync(name, path, await File.ReadAllBytesAsync(temp, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                }
                Native.FsyncDirectory(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Map(name, e);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_closed) await fs.DisposeAsync().ConfigureAwait(false);
            TryDelete(temp);
        }
    }

    private string PathOf(string name) => Path.Combine(_root, name.Replace('/', Path.DirectorySeparatorChar));

    private static async Task EnsureSameContentAsync(string name, string path, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var existing = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
        if (!existing.AsSpan().SequenceEqual(data.Span)) throw new ObjectExistsException(name);
    }

    private static StoreException Map(string name, Exception e) => e switch
    {
        StoreException s => s,
        FileNotFoundException or DirectoryNotFoundException => new ObjectNotFoundException(name, e),
        UnauthorizedAccessException => new StoreException($"Access to object '{name}' was denied.", false, e),
        _ => new StoreException($"I/O error on object '{name}': {e.Message}", true, e),
    };

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
