using System.Security.Cryptography;
using System.Text;
using Portal.Engine;
using Portal.Engine.Crypto;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine;

/// <summary>A temporary folder with a source, a repository store and restore targets; deleted on dispose.</summary>
public sealed class EngineTestKit : IDisposable
{
    public const string Passphrase = "correct horse battery staple";
    /// <summary>Cheap Argon2id so tests stay fast; the cost is stored per key, so nothing else changes.</summary>
    public static readonly EngineOptions Options = new() { Kdf = new KdfParameters(MemoryKiB: 1024, Iterations: 1, Parallelism: 1) };

    public EngineTestKit()
    {
        Root = Path.Combine(Path.GetTempPath(), "portal-engine-tests", Guid.NewGuid().ToString("N"));
        Source = Path.Combine(Root, "source");
        RepoDir = Path.Combine(Root, "repo");
        Directory.CreateDirectory(Source);
        Store = new LocalDirectoryStore(RepoDir);
    }

    public string Root { get; }
    public string Source { get; }
    public string RepoDir { get; }
    public LocalDirectoryStore Store { get; }

    public string NewTarget() => Path.Combine(Root, "restore-" + Guid.NewGuid().ToString("N")[..8]);

    public Task<BackupEngine> InitAsync() => BackupEngine.InitAsync(Store, Passphrase, Options);
    public Task<BackupEngine> OpenAsync() => BackupEngine.OpenAsync(Store, Passphrase, Options);

    public string Write(string relative, string text) => Write(relative, Encoding.UTF8.GetBytes(text));

    public string Write(string relative, byte[] data)
    {
        var path = Path.Combine(Source, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        return path;
    }

    public static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A tree with unicode, spaces, empty files and folders, a symlink, nesting and a 5 MiB random file.</summary>
    public void WriteMixedTree()
    {
        Write("docs/readme.txt", "hello world\n");
        Write("docs/name with spaces.txt", "spaces\n");
        Write("docs/ünïcødé-名前.txt", "unicode\n");
        Write("docs/.hidden", "hidden\n");
        Write("empty.txt", "");
        Directory.CreateDirectory(Path.Combine(Source, "empty-folder"));
        Directory.CreateDirectory(Path.Combine(Source, "deep/a/b/c/d"));
        Write("deep/a/b/c/d/leaf.txt", string.Concat(Enumerable.Repeat("compressible text line\n", 5000)));
        Write("media/big.bin", Random(5 * 1024 * 1024 + 123, 7));
        File.CreateSymbolicLink(Path.Combine(Source, "docs/link-to-readme"), "readme.txt");
        File.CreateSymbolicLink(Path.Combine(Source, "dangling"), "/nonexistent/target");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(Source, "docs/readme.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Where the first hole starts (SEEK_HOLE: the length when there is none) and the bytes allocated.</summary>
    public static (long FirstHole, long Allocated) Holes(string path)
    {
        var fd = Open(path, 0);
        Assert.True(fd >= 0);
        try
        {
            var stat = new byte[256];
            Assert.Equal(0, FStat(fd, stat));
            return (LSeek(fd, 0, 4), BitConverter.ToInt64(stat, 64) * 512); // st_blocks on x86-64 and arm64 Linux
        }
        finally { Close(fd); }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "open")] private static extern int Open(string path, int flags);
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "lseek")] private static extern long LSeek(int fd, long offset, int whence);
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "fstat")] private static extern int FStat(int fd, byte[] buf);
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "close")] private static extern int Close(int fd);

    /// <summary>Asserts that two folders hold the same names, types, contents, link targets, modes and file mtimes.</summary>
    public static void AssertSameTree(string expected, string actual)
    {
        var e = Describe(expected);
        var a = Describe(actual);
        Assert.Equal(e.Keys.Order(StringComparer.Ordinal), a.Keys.Order(StringComparer.Ordinal));
        foreach (var (k, v) in e) Assert.True(v == a[k], $"{k}: expected {v}, got {a[k]}");
    }

    private static Dictionary<string, string> Describe(string root)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var fsi in new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var rel = Path.GetRelativePath(root, fsi.FullName);
            if (fsi.LinkTarget is { } target) d[rel] = "link:" + target;
            else if (fsi is DirectoryInfo di) d[rel] = $"dir:{di.UnixFileMode}";
            else
            {
                var fi = (FileInfo)fsi;
                d[rel] = $"file:{fi.UnixFileMode}:{fi.LastWriteTimeUtc.Ticks}:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(fi.FullName)))}";
            }
        }
        return d;
    }

    public long StoredBytes(string prefix = "data") =>
        Directory.Exists(Path.Combine(RepoDir, prefix))
            ? new DirectoryInfo(Path.Combine(RepoDir, prefix)).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : 0;

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>An IProgress that runs its callback synchronously on the reporting thread (Progress&lt;T&gt; posts asynchronously).</summary>
public sealed class SyncProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}
