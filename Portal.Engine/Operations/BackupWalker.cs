using System.Collections.Concurrent;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Platform;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// A backup's walk, folder by folder (restic's archiver: a tree saver fed by file savers). Depth first, each folder
/// is listed (names sorted), each entry lstat'ed and matched against the parent snapshot's tree of the same folder,
/// read by the parent tree's bytes one node at a time (<see cref="TreeCursor"/>); unchanged entries go straight into
/// the folder's tree (<see cref="TreeWriter"/>, serialized as they come), files to read are handed to
/// <see cref="Readers"/> readers feeding the <see cref="ChunkPipeline"/>, and their nodes follow in order once their
/// chunk ids are known. A folder's tree is stored as soon as its last entry is written, and everything of it is
/// dropped. Memory is bounded by the walk's path (one folder per level: its sorted names, its parent tree's bytes and
/// its tree's bytes so far) and by <see cref="Window"/> entries waiting for their file across all folders, whatever
/// the folder sizes and the depth.
/// </summary>
internal sealed class BackupWalker(Repo repo, MasterIndex index, PackWriter packs, PathFilter filter, RepoLock repoLock,
    List<string> warnings, IProgress<OperationProgress> progress)
{
    private const int Readers = 2;

    /// <summary>Entries queued behind a file being read, over all folders of the walk's path.</summary>
    internal const int Window = 512;

    private readonly SemaphoreSlim _readers = new(Readers);
    private readonly SemaphoreSlim _window = new(Window);
    private readonly ConcurrentBag<BackupFileReader> _freeReaders = [];
    private readonly Chunking.FastCdc _cdc = repo.CreateChunker();
    private readonly long _seed = repo.Key.FingerprintSeed();
    private readonly Lock _warningsLock = new();
    private ChunkPipeline _pipeline = null!;
    private CancellationTokenSource _cts = null!;
    private long _files, _dirs, _bytes, _unchanged, _toRead, _toReadBytes, _readDone, _readBytes;

    /// <summary>Files stored (failed reads left out), folders, and the files' bytes.</summary>
    public long Files => _files;
    public long Dirs => _dirs;
    public long Bytes => _bytes;

    /// <summary>Files that kept the parent's chunk list (not read, or read and found with the same fingerprint).</summary>
    public long Unchanged => _unchanged;

    /// <summary>Files handed to the readers, and their bytes by lstat.</summary>
    public long ToRead => _toRead;
    public long ToReadBytes => _toReadBytes;

    /// <summary>Walks <paramref name="source"/> and stores every tree; returns the root tree's id.</summary>
    public async Task<BlobId> RunAsync(string source, StatInfo rootStat, BlobId? parentTree, CancellationToken ct)
    {
        BlobId root = default;
        await ChunkPipeline.RunAsync(repo, index, packs, async (pipeline, token) =>
        {
            _pipeline = pipeline;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
            _cts = cts;
            var item = new ScanItem("", source, "", rootStat); // the root has no node of its own (no attributes stored)
            root = (await WalkAsync(item, parentTree, isRoot: true).ConfigureAwait(false))!.Value;
        }, ct).ConfigureAwait(false);
        lock (_warningsLock) warnings.Sort(StringComparer.Ordinal);
        return root;
    }

    /// <summary>Stores <paramref name="dir"/>'s tree (or keeps the parent's when every entry is the same); null when include patterns leave it empty.</summary>
    private async Task<BlobId?> WalkAsync(ScanItem dir, BlobId? parentTree, bool isRoot, Task<byte[]?>? prefetched = null)
    {
        var ct = _cts.Token;
        ct.ThrowIfCancellationRequested();
        await repoLock.RefreshIfDueAsync(ct).ConfigureAwait(false);
        List<string> names;
        try
        {
            names = Directory.EnumerateFileSystemEntries(dir.FullPath).Select(Path.GetFileName).OfType<string>().ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Warn($"{Display(dir)}: cannot list folder: {e.Message}");
            names = [];
        }
        names.Sort(StringComparer.Ordinal);
        TreeCursor? parent = null;
        byte[]? parentJson = null;
        if (parentTree is { } parentId)
        {
            try
            {
                parentJson = await (prefetched ?? Task.FromResult<byte[]?>(null)).ConfigureAwait(false)
                    ?? await index.ReadBlobAsync(repo, parentId, ct).ConfigureAwait(false);
                parent = new TreeCursor(parentJson);
            }
            catch (RepositoryException) { parentJson = null; } // a damaged parent only costs re-reading
        }
        var subtrees = parentJson is null ? null : new SubtreePrefetch(this, parentJson);
        var same = parent is not null;
        var skipped = 0;
        Node? Seek(string name)
        {
            if (parent is null) return null;
            try
            {
                var node = parent.Seek(name, ref skipped);
                if (skipped > 0) same = false; // a parent's entry is gone: the deferred entries are still its first nodes
                return node;
            }
            catch (RepositoryException) { parent = null; same = false; return null; }
        }

        // While every entry so far equals the parent's node at its place, nothing is serialized: a folder that stays the
        // same keeps the parent's tree id, and one that differs first writes the parent's nodes up to there.
        using var folder = new FolderTree(this) { Deferring = parent is not null };
        try
        {
            foreach (var name in names)
            {
                ct.ThrowIfCancellationRequested();
                var full = Path.Combine(dir.FullPath, name);
                var rel = dir.RelativePath.Length == 0 ? name : dir.RelativePath + "/" + name;
                if (filter.IsExcluded(rel, name)) continue;
                StatInfo? st;
                try { st = Native.TryLStat(full); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Warn($"{rel}: cannot stat: {e.Message}");
                    continue;
                }
                if (st is null) continue; // vanished between listing and stat: not part of this backup
                var child = new ScanItem(name, full, rel, st.Value);
                Task? read = null;
                switch (st.Value.FileType)
                {
                    case StatInfo.Directory:
                    {
                        ReadXattrs(child);
                        var old = Seek(name);
                        BlobId? oldSub = old is { Type: Node.Dir, Subtree: { } s } && BlobId.TryParse(s, out var sid) ? sid : null;
                        var sub = await WalkAsync(child, oldSub, isRoot: false, oldSub is { } o ? subtrees?.Take(o) : null).ConfigureAwait(false);
                        if (sub is null)
                        {
                            same = false;
                            continue;
                        }
                        child.Subtree = sub.Value;
                        same = same && old is not null && oldSub == sub.Value && child.SameAs(old, Node.Dir);
                        break;
                    }
                    case StatInfo.Symlink:
                    {
                        ReadXattrs(child);
                        var old = Seek(name);
                        try { child.LinkTarget = new FileInfo(full).LinkTarget ?? ""; }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                        {
                            Warn($"{rel}: cannot read symlink: {e.Message}");
                            same = false;
                            continue;
                        }
                        same = same && old is { Type: Node.Symlink } && old.LinkTarget == child.LinkTarget && child.SameAs(old, Node.Symlink);
                        break;
                    }
                    case StatInfo.Regular:
                    {
                        if (!filter.IsIncludedFile(rel, name)) continue;
                        var old = Seek(name);
                        if (old is { Type: Node.File, Content: { } content } && old.Size == child.Stat.Size && old.MtimeNs == child.Stat.MtimeNs
                            && old.CtimeNs == child.Stat.CtimeNs && old.Inode == child.Stat.Inode && AllIndexed(content))
                        {
                            child.Content = content;
                            child.StoredSize = old.Size;
                            child.Xattrs = old.Xattrs; // setting an attribute changes ctime, so an unchanged file keeps its own
                            child.Fingerprint = old.Fingerprint;
                            Interlocked.Increment(ref _unchanged);
                            same = same && child.SameAs(old, Node.File);
                        }
                        else
                        {
                            if (old is { Type: Node.File, Content: { } c, Fingerprint: not null } && old.Size == child.Stat.Size
                                && old.MtimeNs == child.Stat.MtimeNs && AllIndexed(c))
                                child.Candidate = old; // a copy or a restore: read it, and keep the chunk list if the content is the same
                            same = false;
                            // The totals grow as the walk finds files to read (reported before the read starts).
                            progress.Report(new OperationProgress(OperationPhase.Read, Interlocked.Read(ref _readDone), Interlocked.Increment(ref _toRead),
                                Interlocked.Read(ref _readBytes), Interlocked.Add(ref _toReadBytes, child.Stat.Size)));
                            read = Task.Run(() => ReadFileAsync(child)); // on the pool: the walk never reads a file itself
                        }
                        break;
                    }
                    default:
                        Warn($"{rel}: skipped: not a regular file, folder or symlink.");
                        continue;
                }
                if (!same) folder.StopDeferring(parentJson);
                await folder.AddAsync(child, read).ConfigureAwait(false);
            }
            try { same = same && skipped == 0 && parent is not null && !parent.HasMore; }
            catch (RepositoryException) { same = false; }
            if (!same) folder.StopDeferring(parentJson);
            await folder.CompleteAsync().ConfigureAwait(false);
        }
        catch
        {
            await folder.AbandonAsync().ConfigureAwait(false);
            throw;
        }
        if (!isRoot && filter.HasIncludes && folder.Entries == 0) return null; // only folders on the way to a kept entry
        Interlocked.Increment(ref _dirs);
        if (same) return parentTree!.Value; // not serialized and hashed again
        var json = folder.Writer.Finish().Segments;
        var id = repo.Key.Id(json);
        if (index.TryReserve(id))
            await packs.AddAsync(id, Repo.TreeBlob, BlobCodec.Encode(repo.Key, json, Repo.BlobAad(Repo.TreeBlob, id)), ct).ConfigureAwait(false);
        return id;
    }

    /// <summary>Reads one file (two at a time over the whole walk) and waits for its chunk ids; a read error leaves it out with a warning.</summary>
    private async Task ReadFileAsync(ScanItem file)
    {
        var token = _cts.Token;
        try
        {
            await _readers.WaitAsync(token).ConfigureAwait(false);
            ChunkList? list;
            var reader = _freeReaders.TryTake(out var r) ? r : new BackupFileReader(new Chunking.ChunkStream(_cdc, new byte[Chunking.ChunkStream.BufferSize(_cdc.Params)]), _seed);
            try
            {
                list = await reader.ReadAsync(file, _pipeline, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                file.Failed = true;
                Warn($"{file.RelativePath}: cannot read file: {e.Message}");
                return;
            }
            finally
            {
                _freeReaders.Add(reader);
                _readers.Release();
            }
            if (list is null) Interlocked.Increment(ref _unchanged);
            else
            {
                await list.Seal().WaitAsync(token).ConfigureAwait(false);
                file.Content = list.ToContent();
                file.StoredSize = list.Size;
            }
            await repoLock.RefreshIfDueAsync(token).ConfigureAwait(false);
            var bytes = Interlocked.Add(ref _readBytes, file.StoredSize);
            progress.Report(new OperationProgress(OperationPhase.Read, Interlocked.Increment(ref _readDone), Interlocked.Read(ref _toRead), bytes,
                Interlocked.Read(ref _toReadBytes), file.RelativePath));
        }
        catch
        {
            await _cts.CancelAsync().ConfigureAwait(false); // the walk stops instead of waiting for this file
            throw;
        }
    }

    private Task<byte[]> ReadTreeAsync(BlobId id) => index.ReadBlobAsync(repo, id, _cts.Token);

    private bool AllIndexed(List<string> content)
    {
        foreach (var c in content)
            if (!BlobId.TryParse(c, out var id) || !index.Contains(id)) return false;
        return true;
    }

    private void Warn(string warning)
    {
        lock (_warningsLock) warnings.Add(warning);
    }

    /// <summary>Reads a folder's or symlink's extended attributes; when they cannot be read, it is kept without them and a warning says so.</summary>
    private void ReadXattrs(ScanItem item)
    {
        try { item.Xattrs = ScanItem.ReadXattrs(item.FullPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Warn($"{Display(item)}: stored without its extended attributes: {e.Message}");
        }
    }

    private static string Display(ScanItem item) => item.RelativePath.Length == 0 ? "." : item.RelativePath;

    /// <summary>
    /// Reads a folder's subfolders' parent trees ahead of the walk: the next <see cref="Ahead"/> subtree ids of the
    /// parent tree, in name order (the order the walk enters them), are read on the thread pool while the walk lists
    /// and lstats. Ids are found by scanning the parent tree's bytes for the subtree property (no node is parsed, no
    /// list is kept), so memory stays <see cref="Ahead"/> trees per level of the walk's path. A read that fails
    /// yields null: the walk reads that tree itself and meets the error there.
    /// </summary>
    private sealed class SubtreePrefetch(BackupWalker walker, byte[] parentJson)
    {
        internal const int Ahead = 4;
        private static ReadOnlySpan<byte> Property => "\"subtree\":\""u8;
        private readonly Queue<Read> _ahead = new();

        /// <summary>A read in flight (a class: generic code over reference types is shared and precompiled).</summary>
        private sealed record Read(BlobId Id, Task<byte[]?> Task);
        private int _offset;

        /// <summary>
        /// The read of subtree <paramref name="id"/> if it was started, or null. The walk asks in the parent tree's
        /// order, so reads before it are dropped (those folders are gone) and, when it is further on, the scan skips
        /// to it.
        /// </summary>
        public Task<byte[]?>? Take(BlobId id)
        {
            Fill();
            Task<byte[]?>? found = null;
            if (_ahead.Any(a => a.Id == id))
                while (found is null && _ahead.TryDequeue(out var next))
                    if (next.Id == id) found = next.Task;
            if (found is null)
            {
                _ahead.Clear();
                while (NextId() is { } skipped && skipped != id) { }
            }
            Fill();
            return found;
        }

        private void Fill()
        {
            while (_ahead.Count < Ahead && NextId() is { } id) _ahead.Enqueue(new Read(id, Task.Run(() => ReadAsync(id))));
        }

        /// <summary>The next subtree id in the parent tree's bytes, or null after the last.</summary>
        private BlobId? NextId()
        {
            const int hexLength = BlobId.Size * 2;
            while (_offset >= 0)
            {
                var at = parentJson.AsSpan(_offset).IndexOf(Property);
                if (at < 0 || _offset + at + Property.Length + hexLength > parentJson.Length)
                {
                    _offset = -1;
                    break;
                }
                var start = _offset + at + Property.Length;
                _offset = start + hexLength;
                if (BlobId.TryParse(System.Text.Encoding.ASCII.GetString(parentJson, start, hexLength), out var id)) return id;
            }
            return null;
        }

        private async Task<byte[]?> ReadAsync(BlobId id)
        {
            try { return await walker.ReadTreeAsync(id).ConfigureAwait(false); }
            catch (Exception e) when (e is RepositoryException or IOException or OperationCanceledException) { return null; }
        }
    }

    /// <summary>
    /// One folder's tree as it is written: entries in name order, each written as soon as it and every entry before it
    /// are known. An entry behind a file still being read waits in a queue and holds one of the walk's
    /// <see cref="Window"/> places (the walk waits for a place, so memory does not grow with the folder).
    /// </summary>
    private sealed class FolderTree(BackupWalker walker) : IDisposable
    {
        private readonly Queue<Pending> _queue = new();

        /// <summary>An entry waiting in the queue (a class: generic code over reference types is shared and precompiled).</summary>
        private sealed record Pending(ScanItem Item, Task? Read);
        private readonly Lock _lock = new();

        public TreeWriter Writer { get; } = new();

        /// <summary>Entries are counted, not written, while they equal the parent tree's first nodes (see <see cref="StopDeferring"/>).</summary>
        public bool Deferring { get; set; }
        private int _deferred;

        /// <summary>Writes the parent tree's first nodes in place of the entries deferred so far (they were equal), and writes from now on.</summary>
        public void StopDeferring(byte[]? parentJson)
        {
            if (!Deferring) return;
            Deferring = false;
            if (_deferred == 0) return;
            var cursor = new TreeCursor(parentJson!);
            lock (_lock)
                for (var i = 0; i < _deferred; i++) Writer.Add(cursor.Next()!);
        }

        /// <summary>Entries added (include patterns drop folders without any).</summary>
        public int Entries { get; private set; }

        public async Task AddAsync(ScanItem item, Task? read)
        {
            Entries++;
            if (Deferring)
            {
                _deferred++;
                Count(item);
                return;
            }
            lock (_lock)
            {
                if (read is null && _queue.Count == 0)
                {
                    Write(item);
                    return;
                }
            }
            await walker._window.WaitAsync(walker._cts.Token).ConfigureAwait(false);
            lock (_lock) _queue.Enqueue(new Pending(item, read));
            if (read is not null)
                _ = read.ContinueWith(static (_, state) => ((FolderTree)state!).Drain(), this, CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            Drain();
        }

        /// <summary>Waits until every entry is written; throws a read's failure.</summary>
        public async Task CompleteAsync()
        {
            while (true)
            {
                Task? head;
                lock (_lock)
                {
                    if (!_queue.TryPeek(out var first)) return;
                    head = first.Read;
                }
                if (head is not null) await head.ConfigureAwait(false);
                Drain();
            }
        }

        /// <summary>After a failure: waits for the files still being read (they stop at the cancellation).</summary>
        public async Task AbandonAsync()
        {
            await walker._cts.CancelAsync().ConfigureAwait(false);
            List<Task> reads;
            lock (_lock) reads = _queue.Select(e => e.Read).OfType<Task>().ToList();
            try { await Task.WhenAll(reads).ConfigureAwait(false); }
            catch (Exception) { } // the walk's own failure is what the caller sees
        }

        private void Drain()
        {
            lock (_lock)
            {
                while (_queue.TryPeek(out var head) && (head.Read is null || head.Read.IsCompletedSuccessfully))
                {
                    _queue.Dequeue();
                    Write(head.Item);
                    walker._window.Release();
                }
            }
        }

        private void Write(ScanItem child)
        {
            if (child.IsDir)
            {
                var node = child.ToNode(Node.Dir);
                node.Subtree = child.Subtree!.Value.ToHex();
                Writer.Add(node);
            }
            else if (child.IsSymlink)
            {
                var node = child.ToNode(Node.Symlink);
                node.LinkTarget = child.LinkTarget;
                Writer.Add(node);
            }
            else if (child.IsFile && !child.Failed && child.Content is not null)
            {
                var node = child.ToNode(Node.File);
                node.Content = child.Content;
                Writer.Add(node);
                Count(child);
            }
        }

        private void Count(ScanItem child)
        {
            if (!child.IsFile || child.Failed || child.Content is null) return;
            Interlocked.Increment(ref walker._files);
            Interlocked.Add(ref walker._bytes, child.StoredSize);
        }

        public void Dispose() => Writer.Dispose();
    }
}
