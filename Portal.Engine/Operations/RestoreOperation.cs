using Portal.Engine.Crypto;
using Portal.Engine.Platform;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// Restore: walk the snapshot's trees, <see cref="Walkers"/> folders at a time (checking every name, creating
/// folders), and hand each file to <see cref="FileWorkers"/> writers through a queue of <see cref="Queued"/> files
/// while the walk goes on (a new file directly with O_EXCL, an existing one through a temporary file renamed into
/// place only after every chunk was read and verified); then the second names of hard links, symlinks, and folder
/// modes and times, deepest first. Memory is bounded by the folders being walked (their trees) and the queue, not
/// by the number of files: only folders, symlinks and hard-linked files are remembered until the end. Creating
/// thousands of small files is mostly waiting in the file system, so more files are in flight than there are
/// cores, and folders walked side by side put files of different folders in flight together.
/// </summary>
internal sealed class RestoreOperation(Repo repo)
{
    private sealed record FileJob(Node Node, string Dir, string Rel);
    private sealed record DirJob(Node Node, string Path, int Depth);
    private const int FileWorkers = 4;
    private const int Walkers = 4;
    private const int Queued = 64;

    private readonly List<string> _errors = [];
    private readonly List<string> _warnings = [];
    private readonly List<string> _copies = [];
    private readonly Lock _lock = new();
    private readonly System.Threading.Channels.Channel<FileJob> _queue =
        System.Threading.Channels.Channel.CreateBounded<FileJob>(new System.Threading.Channels.BoundedChannelOptions(Queued) { SingleWriter = false });
    private readonly HashSet<(ulong Dev, ulong Inode)> _firsts = [];
    private readonly List<FileJob> _secondary = [];
    private long _filesSeen, _bytesTotal, _filesDone, _bytesDone;
    private readonly List<(Node Node, string Dir, string Rel)> _links = [];
    private readonly List<DirJob> _dirs = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(ulong Dev, ulong Inode), string> _linkTargets = new();
    private long _skipped, _restored, _alreadyComplete, _bytesAlreadyComplete;
    private long _storageReads, _storageBytesRead; // what was fetched from storage (statistics only)
    private bool _resume;
    private RestoreSelection _selection = new([]);
    private long? _resumeSinceNs;
    private string? _copyPrefix;
    private bool _sparse;
    private readonly long _fingerprintSeed = repo.Key.FingerprintSeed();

    private readonly System.Diagnostics.Stopwatch _clock = new();
    private TimeSpan _setup;

    public async Task<RestoreResult> RunAsync(RestoreRequest request, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        _clock.Start();
        // A reader lock first, so that a prune starting now backs off instead of moving the data about to be read.
        var (repoLock, lockWarning) = await RepoLock.AcquireReaderAsync(repo, "restore", ct).ConfigureAwait(false);
        if (lockWarning is not null) _warnings.Add(lockWarning);
        await using (repoLock)
            return await RunLockedAsync(request, repoLock, progress, ct).ConfigureAwait(false);
    }

    private async Task<RestoreResult> RunLockedAsync(RestoreRequest request, RepoLock? repoLock, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        var includes = request.Include.Select(RestorePaths.SplitInclude).ToList();
        _selection = new RestoreSelection(includes);
        _copyPrefix = request.CopyPrefix;
        _sparse = request.Sparse && Native.HasFileDescriptors;
        _resume = request.Resume;
        _resumeSinceNs = request.Resume && request.ResumeSince is { } since ? (since.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100 : null;
        var snapshot = await SnapshotCatalog.ResolveAsync(repo, request.Snapshot, ct).ConfigureAwait(false);
        var index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
        var target = Path.GetFullPath(request.TargetPath);
        Directory.CreateDirectory(target);
        _setup = _clock.Elapsed; // what every restore pays whatever it restores: the lock, the snapshot, the index

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var workers = Enumerable.Range(0, FileWorkers).Select(_ => Task.Run(() => WriteFilesAsync(index, request.Conflict, repoLock, progress, cts), CancellationToken.None)).ToArray();
        try
        {
            using var gate = new SemaphoreSlim(Walkers);
            await WalkAsync(index, BlobId.Parse(snapshot.Snapshot.Tree), target, "", [], includes, request.Conflict, gate, cts.Token).ConfigureAwait(false);
        }
        catch
        {
            await cts.CancelAsync().ConfigureAwait(false);
            _queue.Writer.TryComplete();
            try { await Task.WhenAll(workers).ConfigureAwait(false); } catch (OperationCanceledException) { }
            throw;
        }
        _queue.Writer.TryComplete();
        await Task.WhenAll(workers).ConfigureAwait(false);

        // Files stored with a link count above 1 that share device and inode: the first the walk met was written, the
        // others become hard links to it (or copies, when it could not be restored).
        _secondary.Sort((a, b) => string.CompareOrdinal(a.Rel, b.Rel));
        _links.Sort((a, b) => string.CompareOrdinal(a.Rel, b.Rel));
        var totalBytes = Interlocked.Read(ref _bytesTotal);
        foreach (var job in _secondary)
        {
            _linkTargets.TryGetValue((job.Node.Device, job.Node.Inode), out var existing);
            var written = await RestoreFileAsync(index, job, request.Conflict, existing, ct).ConfigureAwait(false);
            if (written >= 0) Interlocked.Add(ref _bytesDone, written);
            progress.Report(new OperationProgress(OperationPhase.Restore, Interlocked.Increment(ref _filesDone), _filesSeen, Interlocked.Read(ref _bytesDone), totalBytes, job.Rel));
        }

        foreach (var (node, dir, rel) in _links) RestoreSymlink(node, dir, rel, request.Conflict);
        foreach (var d in _dirs.OrderByDescending(d => d.Depth)) ApplyMetadata(d.Path, d.Node, d.Path);
        if (request.Flush && !Native.SyncFileSystem(target))
            _warnings.Add($"What was restored could not be written to disk before the end (syncfs of {target} failed); it is written as the system flushes.");

        _errors.Sort(StringComparer.Ordinal);
        _copies.Sort(StringComparer.Ordinal);
        // The last word: every file was handled (restored, skipped or named in the errors), whatever the throttled
        // reports before it said.
        progress.Report(OperationProgress.Final(OperationPhase.Restore, _filesSeen, totalBytes));
        return new RestoreResult
        {
            Status = _errors.Count > 0 ? OperationStatus.Failed : OperationStatus.Completed,
            FilesRestored = Interlocked.Read(ref _restored),
            BytesRestored = _bytesDone - _bytesAlreadyComplete, Skipped = _skipped, Errors = _errors,
            FilesAlreadyComplete = _alreadyComplete, BytesAlreadyComplete = _bytesAlreadyComplete,
            Warnings = _warnings, Copies = _copies,
            StorageReads = Interlocked.Read(ref _storageReads), StorageBytesRead = Interlocked.Read(ref _storageBytesRead),
            Setup = _setup,
        };
    }

    /// <summary>One of the <see cref="FileWorkers"/> writers: takes files from the queue until the walk has ended.</summary>
    private async Task WriteFilesAsync(MasterIndex index, RestoreConflict conflict, RepoLock? repoLock, IProgress<OperationProgress> progress, CancellationTokenSource cts)
    {
        try
        {
            await foreach (var job in _queue.Reader.ReadAllAsync(cts.Token).ConfigureAwait(false))
            {
                var written = await RestoreFileAsync(index, job, conflict, null, cts.Token).ConfigureAwait(false);
                if (written >= 0) Interlocked.Add(ref _bytesDone, written);
                if (repoLock is not null && await repoLock.TryRefreshIfDueAsync(cts.Token).ConfigureAwait(false) is { } refreshFailed)
                    lock (_lock) _warnings.Add(refreshFailed); // a long restore keeps its lock live, or says it could not
                progress.Report(new OperationProgress(OperationPhase.Restore, Interlocked.Increment(ref _filesDone), Interlocked.Read(ref _filesSeen),
                    Interlocked.Read(ref _bytesDone), Interlocked.Read(ref _bytesTotal), job.Rel));
            }
        }
        catch
        {
            await cts.CancelAsync().ConfigureAwait(false); // the walk stops instead of waiting for room in the queue
            throw;
        }
    }

    /// <summary>Queues a file for the writers, or keeps it for the end when it is a second name of a hard-linked file.</summary>
    private async ValueTask QueueFileAsync(FileJob job, CancellationToken ct)
    {
        Interlocked.Increment(ref _filesSeen);
        if (job.Node.Links > 1)
        {
            lock (_lock)
            {
                if (!_firsts.Add((job.Node.Device, job.Node.Inode)))
                {
                    _secondary.Add(job);
                    return;
                }
            }
        }
        Interlocked.Add(ref _bytesTotal, job.Node.Size);
        await _queue.Writer.WriteAsync(job, ct).ConfigureAwait(false);
    }

    /// <summary>Records that the item at <paramref name="rel"/> was restored under <paramref name="copyName"/> next to one already there.</summary>
    private void Copied(string rel, string copyName)
    {
        var slash = rel.LastIndexOf('/');
        lock (_lock) _copies.Add(slash < 0 ? copyName : rel[..(slash + 1)] + copyName);
    }

    /// <summary>Counts one read of a blob from storage and its stored (sealed) size, for <see cref="RestoreResult.StorageReads"/>.</summary>
    private void Fetching(MasterIndex index, BlobId id)
    {
        if (!index.TryGet(id, out var location, out _)) return; // the read itself reports the missing blob
        Interlocked.Increment(ref _storageReads);
        Interlocked.Add(ref _storageBytesRead, location.Length);
    }

    private void Error(string rel, string message)
    {
        lock (_lock) _errors.Add($"{rel}: {message}");
    }

    private async Task WalkAsync(MasterIndex index, BlobId treeId, string dirPath, string dirRel, string[] here,
        List<string[]> includes, RestoreConflict conflict, SemaphoreSlim gate, CancellationToken ct)
    {
        // The gate is held while this folder's tree is loaded and its entries handed out (the queue may make it wait),
        // and released before its subfolders are walked: at most Walkers trees are in memory at once.
        var subfolders = new List<(BlobId Id, string Path, string Rel, string[] Here)>();
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            RemoveTemporaryFiles(dirPath, _resume);
            // The tree's bytes are read node by node (TreeCursor): a folder of 100,000 files is not 100,000 objects at once.
            TreeCursor tree;
            Fetching(index, treeId);
            try { tree = new TreeCursor(await Task.Run(() => index.ReadBlobAsync(repo, treeId, ct), ct).ConfigureAwait(false)); }
            catch (RepositoryException e)
            {
                Error(dirRel.Length == 0 ? "." : dirRel, $"cannot read folder listing: {e.Message}");
                return;
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (NextNode(tree, dirRel) is { } node)
            {
                ct.ThrowIfCancellationRequested();
                var rel = dirRel.Length == 0 ? node.Name : dirRel + "/" + node.Name;
                if (RestorePaths.Unsafe(node.Name) is { } why)
                {
                    // Named by the entry itself (its name made printable), not by its folder.
                    var shown = node.Name.Length == 0 ? "(an empty name)" : string.Concat(node.Name.Select(c => char.IsControl(c) ? '?' : c));
                    Error(dirRel.Length == 0 ? shown : dirRel + "/" + shown, $"refused an entry with {why} (a restore never writes outside its target).");
                    continue;
                }
                if (!seen.Add(node.Name))
                {
                    Error(rel, "refused: the name appears twice in its folder.");
                    continue;
                }
                string[] path = [.. here, node.Name];
                var selected = _selection.Selects(rel);
                var onTheWay = !selected && _selection.Leads(rel);
                if (!selected && !onTheWay) continue;
                var dest = Path.Combine(dirPath, node.Name);
                switch (node.Type)
                {
                    case Node.Dir when node.Subtree is not null && BlobId.TryParse(node.Subtree, out var sub):
                        var destDir = dest;
                        if (conflict == RestoreConflict.Skip && Native.TryLStat(dest) is { FileType: not StatInfo.Directory })
                        {
                            Interlocked.Increment(ref _skipped);
                            continue;
                        }
                        if (conflict == RestoreConflict.CreateCopy && Native.TryLStat(dest) is { FileType: not StatInfo.Directory })
                        {
                            destDir = Path.Combine(dirPath, RestorePaths.CopyName(dirPath, node.Name, _copyPrefix));
                            Copied(rel, Path.GetFileName(destDir));
                        }
                        if (!RestorePaths.EnsureDirectory(destDir, conflict == RestoreConflict.Overwrite, out var error))
                        {
                            Error(rel, error!);
                            continue;
                        }
                        if (selected) lock (_lock) _dirs.Add(new DirJob(node, destDir, path.Length));
                        subfolders.Add((sub, destDir, rel, path));
                        break;
                    case Node.File when selected:
                        await QueueFileAsync(new FileJob(node, dirPath, rel), ct).ConfigureAwait(false);
                        break;
                    case Node.Symlink when selected:
                        lock (_lock) _links.Add((node, dirPath, rel));
                        break;
                    case Node.Dir or Node.File or Node.Symlink:
                        break;
                    default:
                        Error(rel, $"unknown entry type '{node.Type}'.");
                        break;
                }
            }
        }
        finally { gate.Release(); }
        await Task.WhenAll(subfolders.Select(f => WalkAsync(index, f.Id, f.Path, f.Rel, f.Here, includes, conflict, gate, ct))).ConfigureAwait(false);
    }

    /// <summary>The folder's next entry; a tree that stops parsing part-way is an error for the folder, and its rest is not restored.</summary>
    private Node? NextNode(TreeCursor tree, string dirRel)
    {
        try { return tree.Next(); }
        catch (RepositoryException e)
        {
            Error(dirRel.Length == 0 ? "." : dirRel, $"cannot read folder listing: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// Removes the temporary files (<c>.portal-restore-partial-*</c>) that a restore which has ended (killed, a power cut)
    /// left in <paramref name="dir"/> while replacing a file: never those of a restore still running. With
    /// <paramref name="resume"/>, also the older random names (<c>.portal-restore-&lt;32 hex&gt;</c>). Only regular files;
    /// never followed links.
    /// </summary>
    private static void RemoveTemporaryFiles(string dir, bool resume)
    {
        try
        {
            foreach (var path in Directory.EnumerateFiles(dir, RestorePaths.TempPrefix + "*"))
                if (RestorePaths.IsAbandonedTemp(Path.GetFileName(path), resume) && Native.TryLStat(path) is { FileType: StatInfo.Regular })
                    File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a leftover that cannot be removed takes only space; the restore goes on
        }
    }

    /// <summary>With <see cref="RestoreRequest.ResumeSince"/>: a regular file modified since the earlier attempt started (and not matching).</summary>
    private bool LeftByEarlierAttempt(StatInfo existing) =>
        _resumeSinceNs is { } since && existing.FileType == StatInfo.Regular && existing.MtimeNs >= since;

    /// <summary>
    /// With <see cref="RestoreRequest.Resume"/>: the copy of this file (named as CreateCopy names them) that the earlier
    /// attempt made: complete when it holds the file's content, or half-written (modified since that attempt started).
    /// </summary>
    private async Task<(string Path, bool Complete)?> EarlierCopyAsync(FileJob job, CancellationToken ct)
    {
        foreach (var candidate in RestorePaths.CopyNames(job.Dir, job.Node.Name, _copyPrefix))
        {
            var path = Path.Combine(job.Dir, candidate);
            if (Native.TryLStat(path) is not { } copy)
                return null; // the names are tried in order: past the last existing one there is nothing of ours
            if (copy.FileType == StatInfo.Regular && copy.Size == job.Node.Size && await HasContentAsync(path, job.Node, ct).ConfigureAwait(false))
                return (path, true);
            if (LeftByEarlierAttempt(copy))
                return (path, false);
        }

        return null;
    }

    /// <summary>
    /// Returns bytes written (or, resuming, the size of a file found complete), or -1 if skipped or failed. With <paramref name="linkTo"/> (an already restored name of
    /// the same file) the file becomes a hard link to it instead of a second copy.
    /// </summary>
    private async Task<long> RestoreFileAsync(MasterIndex index, FileJob job, RestoreConflict conflict, string? linkTo, CancellationToken ct)
    {
        var name = job.Node.Name;
        var final = Path.Combine(job.Dir, name);
        var fd = -1;
        var path = final;
        bool created = false, done = false;
        try
        {
            // Most restores go to new names: create first (one call), and look at what is there only when the name
            // exists. O_EXCL never follows a symlink; replacing an existing name goes through a temporary name and
            // rename(2), which replaces a link instead of following it.
            if (linkTo is null && Native.HasFileDescriptors) created = (fd = Native.CreateNewFile(final)) >= 0;
            if (fd < 0)
            {
                if (Native.TryLStat(final) is { } existing)
                {
                    if (_resume && existing.FileType == StatInfo.Regular && existing.Size == job.Node.Size
                        && await HasContentAsync(final, job.Node, ct).ConfigureAwait(false))
                    {
                        // Restored by the earlier attempt and verified now: keep the bytes, set the metadata again (the
                        // attempt may have stopped between the content and its metadata).
                        ApplyMetadata(final, job.Node, job.Rel);
                        if (job.Node.Links > 1) _linkTargets.TryAdd((job.Node.Device, job.Node.Inode), final);
                        Interlocked.Increment(ref _alreadyComplete);
                        Interlocked.Add(ref _bytesAlreadyComplete, job.Node.Size);
                        return job.Node.Size;
                    }
                    if (LeftByEarlierAttempt(existing))
                    {
                        // Half-written by the attempt that stopped: written again under its name, whatever the conflict option.
                    }
                    else if (conflict == RestoreConflict.Skip) { Interlocked.Increment(ref _skipped); return -1; }
                    else if (conflict == RestoreConflict.CreateCopy && _resume && await EarlierCopyAsync(job, ct).ConfigureAwait(false) is { } copy)
                    {
                        if (copy.Complete)
                        {
                            // The earlier attempt restored this file as a copy next to the one in the way: keep that copy.
                            ApplyMetadata(copy.Path, job.Node, job.Rel);
                            Copied(job.Rel, Path.GetFileName(copy.Path));
                            Interlocked.Increment(ref _alreadyComplete);
                            Interlocked.Add(ref _bytesAlreadyComplete, job.Node.Size);
                            return job.Node.Size;
                        }
                        name = Path.GetFileName(copy.Path); // its copy, half-written: write it again
                    }
                    else if (conflict == RestoreConflict.CreateCopy) name = RestorePaths.CopyName(job.Dir, name, _copyPrefix);
                    else if (existing.FileType == StatInfo.Directory)
                    {
                        Error(job.Rel, "refused: an existing folder is in the way.");
                        return -1;
                    }
                }
                final = Path.Combine(job.Dir, name);
                path = Native.TryLStat(final) is null ? final : Path.Combine(job.Dir, RestorePaths.TempName(name));
            }
            long written = 0;
            if (linkTo is not null)
            {
                Native.CreateHardLink(linkTo, path); // shares the first name's content and metadata
                created = true;
            }
            else if (Native.HasFileDescriptors)
            {
                if (fd < 0) created = (fd = Native.CreateNewFile(path)) >= 0;
                if (fd < 0) throw new IOException("another program created the same name during the restore.");
                var handle = fd;
                var target = path;
                written = await WriteContentAsync(index, job.Node, (data, offset) => Native.WriteAt(handle, data, offset, target), ct,
                    _sparse ? length => Native.SetLength(handle, length, target) : null).ConfigureAwait(false);
                fd = -1;
                string? metadataError = null;
                try
                {
                    if (job.Node.Xattrs is { Count: > 0 } xattrs) ExtendedAttributes.Write(path, xattrs.Select(x => (x.Name, x.Value)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
                {
                    metadataError = e.Message;
                }
                try
                {
                    Native.FinishFile(handle, path, job.Node.Uid, job.Node.Gid, job.Node.Mode, job.Node.MtimeNs); // closes it
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    metadataError ??= e.Message;
                }
                if (metadataError is not null) Error(job.Rel, $"metadata not restored: {metadataError}");
            }
            else
            {
                using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
                created = true;
                written = await WriteContentAsync(index, job.Node, (data, offset) => RandomAccess.Write(handle, data, offset), ct).ConfigureAwait(false);
                handle.Dispose();
                ApplyMetadata(path, job.Node, job.Rel);
            }
            if (path != final) File.Move(path, final, overwrite: true);
            done = true;
            if (job.Node.Links > 1) _linkTargets.TryAdd((job.Node.Device, job.Node.Inode), final);
            if (name != job.Node.Name) Copied(job.Rel, name);
            Interlocked.Increment(ref _restored);
            return written;
        }
        catch (Exception e) when (e is RepositoryException or IOException or UnauthorizedAccessException or Storage.StoreException or PlatformNotSupportedException)
        {
            Error(job.Rel, $"not restored: {e.Message}");
            return -1;
        }
        finally
        {
            if (fd >= 0) Native.CloseFile(fd);
            // Never leave a partly written file behind: a file that fails verification is not restored at all.
            if (created && !done) try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Whether the file at <paramref name="path"/> holds exactly <paramref name="node"/>'s content: its XXH128 fingerprint
    /// (keyed like the backup's) equals the one recorded at backup. False without a recorded fingerprint, and when the
    /// file cannot be read (the restore then handles it as any existing file).
    /// </summary>
    private async Task<bool> HasContentAsync(string path, Node node, CancellationToken ct)
    {
        if (node.Fingerprint is not { Length: 32 } expected) return false;
        var hash = new System.IO.Hashing.XxHash128(_fingerprintSeed);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
            long length = 0;
            int n;
            while ((n = await file.ReadAsync(buffer.AsMemory(), ct).ConfigureAwait(false)) > 0)
            {
                hash.Append(buffer.AsSpan(0, n));
                if ((length += n) > node.Size) return false;
            }
            return length == node.Size && Convert.ToHexStringLower(hash.GetCurrentHash()) == expected.ToLowerInvariant();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private delegate void ChunkWriter(ReadOnlySpan<byte> data, long offset);

    /// <summary>A sparse restore leaves out whole blocks of this size (aligned in the file) that are all zeros.</summary>
    private const int HoleBlock = 4096;

    /// <summary>
    /// Writes a file's chunks in order while the next few are read, decrypted and verified on other threads,
    /// so one large file still uses every core. Each chunk is authenticated before it is written (AES-GCM, with the
    /// chunk's id in the associated data). The plaintext is then checked end to end: against the file's fingerprint
    /// when the tree has one (XXH128 of the whole content, so a wrong or misplaced chunk in the list is caught too, at
    /// a tenth of the cost of SHA-256), else chunk by chunk against the chunk's keyed hash. A mismatch throws, and the
    /// caller removes the file: a file that fails verification is not restored.
    /// With <paramref name="setLength"/> (a sparse restore into a new file), 4 KiB blocks of zeros are not written,
    /// leaving holes, and the length is set at the end when the file ends in one.
    /// </summary>
    private async Task<long> WriteContentAsync(MasterIndex index, Node node, ChunkWriter write, CancellationToken ct, Action<long>? setLength = null)
    {
        const int Ahead = 4;
        var content = node.Content ?? [];
        var ids = new BlobId[content.Count];
        for (var i = 0; i < ids.Length; i++)
            if (!BlobId.TryParse(content[i], out ids[i])) throw new RepositoryException($"bad chunk id '{content[i]}'.");
        var expected = new byte[16];
        var fingerprint = node.Fingerprint is { Length: 32 } hex && Convert.FromHexString(hex, expected, out _, out var n) == System.Buffers.OperationStatus.Done && n == 16
            ? new System.IO.Hashing.XxHash128(_fingerprintSeed) : null;
        var verifyIds = fingerprint is null;
        var window = new Queue<Task<Compression.PooledBuffer>>();
        var next = 0;
        Task<Compression.PooledBuffer> Start(BlobId id)
        {
            Fetching(index, id);
            return ids.Length == 1 ? index.ReadBlobPooledAsync(repo, id, ct, verifyIds) : Task.Run(() => index.ReadBlobPooledAsync(repo, id, ct, verifyIds), ct);
        }
        long written = 0;
        long dataEnd = 0; // where the last written byte ends (sparse restores)
        try
        {
            while (next < ids.Length && window.Count < Ahead) window.Enqueue(Start(ids[next++]));
            while (window.Count > 0)
            {
                using var data = await window.Dequeue().ConfigureAwait(false); // decrypted and authenticated
                if (next < ids.Length) window.Enqueue(Start(ids[next++]));
                fingerprint?.Append(data.Span);
                if (setLength is null) write(data.Span, written); // page cache: cheaper than a thread-pool hop per chunk
                else dataEnd = WriteSkippingZeroBlocks(write, data.Span, written) ?? dataEnd;
                written += data.Length;
            }
        }
        finally
        {
            while (window.Count > 0)
            {
                try { (await window.Dequeue().ConfigureAwait(false)).Dispose(); }
                catch (Exception e) when (e is RepositoryException or OperationCanceledException or IOException or Storage.StoreException) { }
            }
        }
        if (fingerprint is not null && !fingerprint.GetCurrentHash().AsSpan().SequenceEqual(expected))
            throw new RepositoryException("its content does not match the fingerprint recorded at backup (run check --read-data).");
        if (written != node.Size) // never a file shorter (or longer) than recorded, reported as restored
            throw new RepositoryException($"its chunks hold {written} bytes but {node.Size} were recorded at backup (run check --read-data).");
        if (setLength is not null && dataEnd < written) setLength(written);
        return written;
    }

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/> except the whole <see cref="HoleBlock"/> blocks of
    /// the file that are all zeros (a new file reads zeros there). Returns where the last written byte ends, or null
    /// when nothing was written. Blocks cut by a chunk's edge are written.
    /// </summary>
    private static long? WriteSkippingZeroBlocks(ChunkWriter write, ReadOnlySpan<byte> data, long offset)
    {
        int pos = 0, run = 0; // [run, pos): bytes to write
        long? end = null;
        while (pos < data.Length)
        {
            var blockEnd = (int)Math.Min(data.Length, ((offset + pos) / HoleBlock + 1) * HoleBlock - offset);
            if (blockEnd - pos == HoleBlock && !data[pos..blockEnd].ContainsAnyExcept((byte)0))
            {
                if (run < pos) { write(data[run..pos], offset + run); end = offset + pos; }
                run = blockEnd;
            }
            pos = blockEnd;
        }
        if (run < data.Length) { write(data[run..], offset + run); end = offset + data.Length; }
        return end;
    }

    private void RestoreSymlink(Node node, string dir, string rel, RestoreConflict conflict)
    {
        var name = node.Name;
        var existing = Native.TryLStat(Path.Combine(dir, name));
        if (existing is not null)
        {
            if (conflict == RestoreConflict.Skip) { Interlocked.Increment(ref _skipped); return; }
            if (conflict == RestoreConflict.CreateCopy) name = RestorePaths.CopyName(dir, name, _copyPrefix);
            else if (existing.Value.FileType == StatInfo.Directory)
            {
                Error(rel, "refused: an existing folder is in the way of a symlink.");
                return;
            }
            else File.Delete(Path.Combine(dir, name));
        }
        var path = Path.Combine(dir, name);
        try
        {
            File.CreateSymbolicLink(path, node.LinkTarget ?? "");
            if (name != node.Name) Copied(rel, name);
            ApplyMetadata(path, node, rel);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error(rel, $"symlink not restored: {e.Message}");
        }
    }

    private void ApplyMetadata(string path, Node node, string rel)
    {
        try
        {
            if (node.Xattrs is { Count: > 0 } xattrs) ExtendedAttributes.Write(path, xattrs.Select(x => (x.Name, x.Value)));
            if (Native.IsRoot) Native.SetOwner(path, node.Uid, node.Gid);
            if (node.Type != Node.Symlink && !OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)(node.Mode & 0xFFF));
            Native.SetMtime(path, node.MtimeNs);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            Error(rel, $"metadata not restored: {e.Message}");
        }
    }
}
