using System.Text.Json.Serialization;

namespace Portal.Engine.Repository;

/// <summary>The sealed <c>config</c> object: format version and the algorithm ids a reader must use.</summary>
internal sealed class RepoConfig
{
    public const int CurrentVersion = 1;
    [JsonPropertyName("version")] public int Version { get; set; } = CurrentVersion;
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }
    [JsonPropertyName("chunker")] public string Chunker { get; set; } = "fastcdc-gear64-nc2";
    [JsonPropertyName("chunkMin")] public int ChunkMin { get; set; }
    [JsonPropertyName("chunkAvg")] public int ChunkAvg { get; set; }
    [JsonPropertyName("chunkMax")] public int ChunkMax { get; set; }
    [JsonPropertyName("chunkId")] public string ChunkId { get; set; } = "hmac-sha256";
    [JsonPropertyName("compression")] public string Compression { get; set; } = "zstd";
    [JsonPropertyName("encryption")] public string Encryption { get; set; } = "aes-256-gcm";
    [JsonPropertyName("packTarget")] public int PackTarget { get; set; }
}

/// <summary>One entry of a tree: a file, a folder or a symlink, with its metadata.</summary>
internal sealed class Node
{
    public const string File = "file", Dir = "dir", Symlink = "symlink";
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("type")] public string Type { get; set; } = File;
    [JsonPropertyName("mode")] public uint Mode { get; set; }
    [JsonPropertyName("uid")] public uint Uid { get; set; }
    [JsonPropertyName("gid")] public uint Gid { get; set; }
    [JsonPropertyName("size")] public long Size { get; set; }
    [JsonPropertyName("mtime")] public long MtimeNs { get; set; }
    [JsonPropertyName("ctime")] public long CtimeNs { get; set; }
    [JsonPropertyName("inode")] public ulong Inode { get; set; }
    [JsonPropertyName("dev")] public ulong Device { get; set; }
    [JsonPropertyName("target"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? LinkTarget { get; set; }
    [JsonPropertyName("content"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? Content { get; set; }
    [JsonPropertyName("subtree"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Subtree { get; set; }
    /// <summary>
    /// A file's XXH128 (seeded with a secret derived from the master key), 32 hex digits; absent in trees written
    /// before it existed. A backup reads a file again when its inode or ctime changed but its size and mtime did
    /// not (a copy, a restore, a move across file systems): if this fingerprint still matches, the parent's chunk
    /// list is kept instead of cutting and hashing the file again. Chunks are always verified by their keyed ids.
    /// </summary>
    [JsonPropertyName("xxh128"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Fingerprint { get; set; }
    /// <summary>A file's hard link count when above 1 (restore links the names that share dev and inode); else absent.</summary>
    [JsonPropertyName("links"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public uint Links { get; set; }
    /// <summary>Extended attributes sorted by name; absent when there are none.</summary>
    [JsonPropertyName("xattrs"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<Xattr>? Xattrs { get; set; }
}

/// <summary>One extended attribute: its full name (<c>user.x</c>, <c>security.selinux</c>...) and its value (base64 in JSON).</summary>
internal sealed class Xattr
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("value")] public byte[] Value { get; set; } = [];
}

/// <summary>A folder's entries sorted by ordinal name; stored as a sealed tree blob in a pack.</summary>
internal sealed class Tree
{
    [JsonPropertyName("nodes")] public List<Node> Nodes { get; set; } = [];
}

/// <summary>Totals of one backup, stored in its snapshot.</summary>
internal sealed class SnapshotSummary
{
    [JsonPropertyName("files")] public long Files { get; set; }
    [JsonPropertyName("dirs")] public long Dirs { get; set; }
    [JsonPropertyName("bytes")] public long Bytes { get; set; }
    [JsonPropertyName("filesRead")] public long FilesRead { get; set; }
    [JsonPropertyName("filesUnchanged")] public long FilesUnchanged { get; set; }
    [JsonPropertyName("blobsAdded")] public long BlobsAdded { get; set; }
    [JsonPropertyName("bytesAdded")] public long BytesAdded { get; set; }
    [JsonPropertyName("warnings")] public int Warnings { get; set; }
}

/// <summary>A snapshot (recovery point) manifest: sealed <c>snapshots/&lt;sha256&gt;</c>, written last.</summary>
internal sealed class Snapshot
{
    [JsonPropertyName("version")] public int Version { get; set; } = 1;
    [JsonPropertyName("time")] public DateTimeOffset Time { get; set; }
    [JsonPropertyName("host")] public string Host { get; set; } = "";
    [JsonPropertyName("user")] public string User { get; set; } = "";
    [JsonPropertyName("paths")] public List<string> Paths { get; set; } = [];
    [JsonPropertyName("tree")] public string Tree { get; set; } = "";
    [JsonPropertyName("parent"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Parent { get; set; }
    [JsonPropertyName("tags")] public List<string> Tags { get; set; } = [];
    [JsonPropertyName("status")] public string Status { get; set; } = "Completed";
    [JsonPropertyName("summary")] public SnapshotSummary Summary { get; set; } = new();
    /// <summary>Forget refuses the snapshot before this time (an immutable vault's point); absent in most snapshots and in older ones.</summary>
    [JsonPropertyName("keepUntil"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? KeepUntil { get; set; }
}

/// <summary>Where one blob lives: written in index objects.</summary>
internal sealed class IndexBlob
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("type")] public byte Type { get; set; }
    [JsonPropertyName("offset")] public uint Offset { get; set; }
    [JsonPropertyName("length")] public uint Length { get; set; }
}

/// <summary>One pack's blobs within an index object.</summary>
internal sealed class IndexPack
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("blobs")] public List<IndexBlob> Blobs { get; set; } = [];
}

/// <summary>Version 1 of the sealed <c>index/&lt;sha256&gt;</c> object (JSON): still read, no longer written (see <see cref="IndexCodec"/>).</summary>
internal sealed class IndexFile
{
    [JsonPropertyName("version")] public int Version { get; set; } = 1;
    [JsonPropertyName("packs")] public List<IndexPack> Packs { get; set; } = [];
}

/// <summary>A sealed <c>locks/&lt;random&gt;</c> object: who works on the repository, refreshed while running.</summary>
internal sealed class LockFile
{
    [JsonPropertyName("exclusive")] public bool Exclusive { get; set; }
    [JsonPropertyName("operation")] public string Operation { get; set; } = "";
    [JsonPropertyName("host")] public string Host { get; set; } = "";
    [JsonPropertyName("pid")] public int Pid { get; set; }
    [JsonPropertyName("time")] public DateTimeOffset Time { get; set; }
    /// <summary>
    /// The writer's process space (boot id and pid namespace) and its start time: a process in the same space can
    /// tell at once that the writer has ended (see <see cref="Platform.ProcessIdentity"/>). Absent in locks written
    /// before they existed and on systems without <c>/proc</c>: those go stale by age only.
    /// </summary>
    [JsonPropertyName("space"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Space { get; set; }
    [JsonPropertyName("start"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Start { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(RepoConfig))]
[JsonSerializable(typeof(Tree))]
[JsonSerializable(typeof(Node))]
[JsonSerializable(typeof(Snapshot))]
[JsonSerializable(typeof(IndexFile))]
[JsonSerializable(typeof(LockFile))]
[JsonSerializable(typeof(Operations.VaultManifestObject))]
[JsonSerializable(typeof(Operations.HoldObject))]
[JsonSerializable(typeof(Crypto.KeyObject))]
internal sealed partial class RepoJson : JsonSerializerContext;
