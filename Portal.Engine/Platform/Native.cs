using System.Runtime.InteropServices;

namespace Portal.Engine.Platform;

/// <summary>What lstat(2) says about one path (no link following).</summary>
internal readonly record struct StatInfo(
    ulong Device, ulong Inode, uint Mode, uint Uid, uint Gid, long Size, long MtimeNs, long CtimeNs, uint Links = 1)
{
    public const uint TypeMask = 0xF000, Regular = 0x8000, Directory = 0x4000, Symlink = 0xA000;
    public uint FileType => Mode & TypeMask;
    public uint Permissions => Mode & 0xFFF;
}

/// <summary>
/// The few POSIX calls .NET does not expose: lstat (inode, ctime, owner ids), utimensat without following
/// links, and fsync of a directory. Only Linux x64/arm64 layouts are known; elsewhere lstat falls back to
/// what .NET offers (no inode/ctime/owner), which only weakens the change detection.
/// </summary>
internal static unsafe partial class Native
{
    private static readonly bool LinuxX64 = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;
    private static readonly bool LinuxArm64 = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* addr, nuint length, int advice);

    /// <summary>
    /// Asks Linux to back the whole 2 MiB pages inside <paramref name="memory"/> (pinned, not yet written) with huge
    /// pages (MADV_HUGEPAGE; this kernel's transparent huge pages are "madvise"): a random lookup in an index of
    /// hundreds of MiB then misses the TLB far less often. Only advice: ignored where it is not supported.
    /// </summary>
    public static void AdviseHugePages<T>(T[] memory) where T : unmanaged
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("PORTAL_NO_HUGEPAGES") == "1") return;
        const long Huge = 2 * 1024 * 1024;
        fixed (T* p = memory)
        {
            var start = ((long)p + Huge - 1) & ~(Huge - 1);
            var end = ((long)p + (long)memory.Length * sizeof(T)) & ~(Huge - 1);
            if (end > start) Madvise((void*)start, (nuint)(end - start), 14);
        }
    }

    [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LStat(string path, byte* buf);

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UtimensAt(int dirfd, string path, long* times, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LChown(string path, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string newPath);

    /// <summary>Creates <paramref name="newPath"/> as a hard link to <paramref name="existing"/> (link(2); never replaces).</summary>
    public static void CreateHardLink(string existing, string newPath)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("Hard links are restored on Linux only.");
        if (Link(existing, newPath) != 0)
            throw new IOException($"Could not create a hard link at {newPath}: {Reason(Marshal.GetLastPInvokeError())}.");
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenMode(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static partial nint PWrite(int fd, byte* buf, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FTruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int FChmod(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    private static partial int FChown(int fd, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
    private static partial int FUtimens(int fd, long* times);

    /// <summary>True when running as root (owner ids can then be restored).</summary>
    public static bool IsRoot { get; } = OperatingSystem.IsLinux() && GetEuid() == 0;

    /// <summary>True where the descriptor-based calls below are available (Linux).</summary>
    public static bool HasFileDescriptors => OperatingSystem.IsLinux();

    /// <summary>
    /// Creates a new file for writing (O_CREAT | O_EXCL, which never follows a symlink, mode 0600 until the
    /// stored mode is applied). Returns the descriptor, or -1 when the name already exists.
    /// </summary>
    public static int CreateNewFile(string path)
    {
        const int OWrOnly = 1, OCreat = 0x40, OExcl = 0x80, OCloExec = 0x80000;
        var fd = OpenMode(path, OWrOnly | OCreat | OExcl | OCloExec, 0x180);
        if (fd >= 0) return fd;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == 17) return -1; // EEXIST
        throw Failure(errno, "create", path);
    }

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public static void WriteAt(int fd, ReadOnlySpan<byte> data, long offset, string path)
    {
        fixed (byte* p = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = PWrite(fd, p + done, (nuint)(data.Length - done), offset + done);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == 4) continue; // EINTR
                    throw Failure(errno, "write", path);
                }
                done += (int)n;
            }
        }
    }

    /// <summary>Sets the length of an open file (a file that ends in a hole gets its last bytes this way).</summary>
    public static void SetLength(int fd, long length, string path)
    {
        if (FTruncate(fd, length) != 0) throw Failure(Marshal.GetLastPInvokeError(), "set the length of", path);
    }

    /// <summary>Owner (as root), mode and mtime of an open file, then closes it.</summary>
    public static void FinishFile(int fd, string path, uint uid, uint gid, uint mode, long mtimeNs)
    {
        try
        {
            if (IsRoot && FChown(fd, uid, gid) != 0) throw Failure(Marshal.GetLastPInvokeError(), "set the owner of", path);
            // After chown: it clears the set-user-ID and set-group-ID bits.
            if (FChmod(fd, mode & 0xFFF) != 0) throw Failure(Marshal.GetLastPInvokeError(), "set the mode of", path);
            var times = stackalloc long[4];
            times[0] = times[2] = Math.DivRem(mtimeNs, 1_000_000_000L, out var rem);
            times[1] = times[3] = rem;
            if (FUtimens(fd, times) != 0) throw Failure(Marshal.GetLastPInvokeError(), "set the time of", path);
        }
        finally
        {
            CloseFile(fd);
        }
    }

    /// <summary>Closes a descriptor from <see cref="CreateNewFile"/>.</summary>
    public static void CloseFile(int fd) => Close(fd);

    private static Exception Failure(int errno, string what, string path) => errno switch
    {
        13 or 1 => new UnauthorizedAccessException($"Permission denied: could not {what} {path}."),
        28 => new IOException($"No space left on the device: could not {what} {path}."),
        _ => new IOException($"Could not {what} {path}: {Reason(errno)}."),
    };

    /// <summary>The system's plain words for an error number ("File name too long"), never a bare "errno 36".</summary>
    internal static string Reason(int errno)
    {
        var text = Marshal.GetPInvokeErrorMessage(errno);
        return string.IsNullOrWhiteSpace(text) || text.StartsWith("Unknown error", StringComparison.Ordinal) ? $"system error {errno}" : text.TrimEnd('.');
    }

    /// <summary>lstat(2); null if the path does not exist. Throws IOException/UnauthorizedAccessException otherwise.</summary>
    public static StatInfo? TryLStat(string path)
    {
        if (!LinuxX64 && !LinuxArm64) return ManagedStat(path);
        var buf = stackalloc byte[256];
        if (LStat(path, buf) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is 2 or 20) return null; // ENOENT, ENOTDIR
            if (errno == 13) throw new UnauthorizedAccessException($"Permission denied: {path}");
            throw new IOException($"Could not read the details of {path}: {Reason(errno)}.");
        }
        if (LinuxX64)
        {
            return new StatInfo(*(ulong*)buf, *(ulong*)(buf + 8), *(uint*)(buf + 24), *(uint*)(buf + 28), *(uint*)(buf + 32),
                *(long*)(buf + 48), Ns(buf + 88), Ns(buf + 104), (uint)Math.Min(*(ulong*)(buf + 16), uint.MaxValue));
        }
        // arm64 (asm-generic layout)
        return new StatInfo(*(ulong*)buf, *(ulong*)(buf + 8), *(uint*)(buf + 16), *(uint*)(buf + 24), *(uint*)(buf + 28),
            *(long*)(buf + 48), Ns(buf + 88), Ns(buf + 104), *(uint*)(buf + 20));
    }

    private static long Ns(byte* ts) => *(long*)ts * 1_000_000_000L + *(long*)(ts + 8);

    private static StatInfo? ManagedStat(string path)
    {
        FileSystemInfo fi = new FileInfo(path);
        if (!fi.Exists)
        {
            fi = new DirectoryInfo(path);
            if (!fi.Exists && fi.LinkTarget is null) return null;
        }
        uint type = fi.LinkTarget is not null ? StatInfo.Symlink : fi is DirectoryInfo ? StatInfo.Directory : StatInfo.Regular;
        uint perm = OperatingSystem.IsWindows() ? 0x1A4u : (uint)fi.UnixFileMode;
        long size = fi is FileInfo f && type == StatInfo.Regular ? f.Length : 0;
        long mtime = (fi.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks * 100;
        return new StatInfo(0, 0, type | perm, 0, 0, size, mtime, mtime);
    }

    /// <summary>Sets mtime (and atime to the same) without following a final symlink.</summary>
    public static void SetMtime(string path, long mtimeNs)
    {
        if (!OperatingSystem.IsLinux())
        {
            File.SetLastWriteTimeUtc(path, DateTime.UnixEpoch.AddTicks(mtimeNs / 100));
            return;
        }
        var times = stackalloc long[4];
        times[0] = times[2] = Math.DivRem(mtimeNs, 1_000_000_000L, out var rem);
        times[1] = times[3] = rem;
        const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
        if (UtimensAt(AtFdCwd, path, times, AtSymlinkNoFollow) != 0)
            throw new IOException($"Could not set the time of {path}: {Reason(Marshal.GetLastPInvokeError())}.");
    }

    /// <summary>Sets owner ids without following links; only meaningful as root.</summary>
    public static void SetOwner(string path, uint uid, uint gid)
    {
        if (OperatingSystem.IsLinux() && LChown(path, uid, gid) != 0)
            throw new IOException($"Could not set the owner of {path}: {Reason(Marshal.GetLastPInvokeError())}.");
    }

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

    /// <summary>Writes every dirty page of the file system holding <paramref name="path"/> to disk (syncfs(2)); false when that failed. True off Linux (nothing to do).</summary>
    public static bool SyncFileSystem(string path)
    {
        if (!OperatingSystem.IsLinux()) return true;
        const int ORdOnly = 0, ODirectory = 0x10000;
        var fd = OpenMode(path, ORdOnly | ODirectory, 0);
        if (fd < 0) return false;
        try { return SyncFs(fd) == 0; } finally { Close(fd); }
    }

    /// <summary>Flushes a directory entry change (a rename) to disk. Best effort off Linux.</summary>
    public static void FsyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux()) return;
        const int ORdOnly = 0, ODirectory = 0x10000;
        var fd = OpenMode(dir, ORdOnly | ODirectory, 0);
        if (fd < 0) return;
        try { Fsync(fd); } finally { Close(fd); }
    }
}
