using Portal.Engine.Replication;
using Portal.Engine.Storage;
using Portal.Tests.Engine.Storage;

namespace Portal.Tests.Engine.Replication;

/// <summary>Three replica folders of one region, each behind a <see cref="FaultyStore"/>, and the LRS store over them.</summary>
public sealed class ReplicaSet : IDisposable
{
    public ReplicaSet(string? root = null)
    {
        Root = root ?? Directory.CreateTempSubdirectory("portal-lrs-").FullName;
        Folders = [.. Enumerable.Range(1, 3).Select(i => Path.Combine(Root, $"replica-{i}"))];
        Replicas = [.. Folders.Select(f => new FaultyStore(new LocalDirectoryStore(f)))];
        Store = new ReplicatedStore(Replicas);
    }

    public string Root { get; }
    public IReadOnlyList<string> Folders { get; }
    public IReadOnlyList<FaultyStore> Replicas { get; }
    public ReplicatedStore Store { get; }

    public string PathOf(int replica, string name) => Path.Combine(Folders[replica], name.Replace('/', Path.DirectorySeparatorChar));

    public IEnumerable<string> Names(int replica, string prefix) =>
        Directory.Exists(Path.Combine(Folders[replica], prefix))
            ? Directory.EnumerateFiles(Path.Combine(Folders[replica], prefix), "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(Folders[replica], f).Replace(Path.DirectorySeparatorChar, '/'))
                .Where(n => !n.Contains('#'))
            : [];

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}
