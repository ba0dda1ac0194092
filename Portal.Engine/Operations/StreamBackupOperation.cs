using System.Text.Json;
using Portal.Engine.Chunking;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// Backs up one stream (a database dump on a tool's stdout) as the single file of a new snapshot, chunk by chunk as
/// it arrives: nothing is staged on disk and memory stays bounded by the chunker buffer and the pack buffers. The
/// snapshot is written only after the stream ended normally; a stream that throws (the dump tool failed) leaves no
/// snapshot, and the packs already stored are indexed for the next backup to reuse.
/// </summary>
internal sealed class StreamBackupOperation(Repo repo)
{
    public async Task<BackupResult> RunAsync(StreamBackupRequest request, Stream source, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        ObjectNameCheck(request.FileName);
        var host = request.Host ?? Environment.MachineName;
        await using var repoLock = await RepoLock.AcquireAsync(repo, exclusive: false, "backup", ct).ConfigureAwait(false);
        var index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
        var warnings = new List<string>();
        await OrphanPacks.AdoptAsync(repo, index, warnings, ct).ConfigureAwait(false);
        var snapshots = await SnapshotCatalog.LoadAllAsync(repo, ct).ConfigureAwait(false);
        var parent = snapshots.LastOrDefault(s => s.Snapshot.Host == host && s.Snapshot.Paths.SequenceEqual([request.SourceName]));

        await using var packs = new PackWriter(repo, index) { AfterPack = repoLock.RefreshIfDueAsync };
        try
        {
            progress.Report(new OperationProgress(OperationPhase.Read, 0, 1, 0, request.ExpectedBytes, request.FileName));
            var cdc = repo.CreateChunker();
            var chunks = new ChunkStream(cdc, new byte[ChunkStream.BufferSize(cdc.Params)]);
            chunks.Reset(source);
            var list = new ChunkList();
            await ChunkPipeline.RunAsync(repo, index, packs, async (pipeline, cancel) =>
            {
                while (true)
                {
                    // The chunker reads synchronously (a pipe read blocks until the tool writes): off the caller's thread.
                    var chunk = await Task.Run(() => chunks.Next(cancel), cancel).ConfigureAwait(false);
                    if (chunk.IsEmpty) break;
                    await pipeline.PostAsync(list, chunk.Span).ConfigureAwait(false);
                    progress.Report(new OperationProgress(OperationPhase.Read, 0, 1, list.Size, Math.Max(list.Size, request.ExpectedBytes), request.FileName));
                    await repoLock.RefreshIfDueAsync(cancel).ConfigureAwait(false);
                }
            }, ct).ConfigureAwait(false);
            var content = list.ToContent();
            var size = list.Size;

            progress.Report(new OperationProgress(OperationPhase.Finish, 1, 1, size, size, request.FileName));
            var now = repo.Time.GetUtcNow();
            var mtime = now.ToUnixTimeMilliseconds() * 1_000_000;
            var tree = new Tree
            {
                Nodes = [new Node { Name = request.FileName, Type = Node.File, Mode = 0x180 /* 0600 */, Size = size, MtimeNs = mtime, CtimeNs = mtime, Content = content }],
            };
            var json = JsonSerializer.SerializeToUtf8Bytes(tree, RepoJson.Default.Tree);
            var treeId = repo.Key.Id(json);
            if (index.TryReserve(treeId))
                await packs.AddAsync(treeId, Repo.TreeBlob, BlobCodec.Encode(repo.Key, json, Repo.BlobAad(Repo.TreeBlob, treeId)), ct).ConfigureAwait(false);
            await packs.FlushAsync(ct).ConfigureAwait(false);
            await packs.SaveIndexAsync().ConfigureAwait(false);
            var snapshot = new Snapshot
            {
                Time = now, Host = host, User = Environment.UserName, Paths = [request.SourceName], Tree = treeId.ToHex(), Parent = parent?.Id,
                Tags = [.. request.Tags], Status = OperationStatus.Completed.ToString(), KeepUntil = request.KeepUntil,
                Summary = new SnapshotSummary { Files = 1, Bytes = size, FilesRead = 1, BlobsAdded = packs.BlobsAdded, BytesAdded = packs.BytesWritten, Warnings = warnings.Count },
            };
            await repoLock.RefreshIfDueAsync(ct).ConfigureAwait(false);
            var name = await repo.SaveJsonAsync(Repo.SnapshotsPrefix, snapshot, RepoJson.Default.Snapshot, ct).ConfigureAwait(false);
            progress.Report(OperationProgress.Final(OperationPhase.Finish, 1, size) with { CurrentPath = request.FileName });
            return new BackupResult
            {
                SnapshotId = name[Repo.SnapshotsPrefix.Length..], Status = warnings.Count > 0 ? OperationStatus.CompletedWithWarnings : OperationStatus.Completed,
                Warnings = warnings, Files = 1, Bytes = size, FilesRead = 1, BlobsAdded = packs.BlobsAdded, BytesAdded = packs.BytesWritten,
            };
        }
        finally
        {
            await packs.SaveIndexAsync().ConfigureAwait(false);
        }
    }


    private static void ObjectNameCheck(string name)
    {
        if (string.IsNullOrEmpty(name) || name is "." or ".." || name.Contains('/') || name.Contains('\0'))
            throw new ArgumentException($"\"{name}\" is not a file name: give a name without '/' or NUL, such as database.dump.", nameof(name));
    }
}
