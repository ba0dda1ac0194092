using System.Runtime.InteropServices;
using System.Text;

namespace Portal.Engine.Platform;

/// <summary>
/// Extended attributes of a path on Linux (llistxattr/lgetxattr/lsetxattr: the link itself, never its target).
/// Elsewhere, and on file systems without them, a path has none. ACLs are the <c>system.posix_acl_*</c>
/// attributes, so they come along (setting them back needs the owner or root).
/// </summary>
internal static unsafe partial class ExtendedAttributes
{
    private const int ENOTSUP = 95, ENODATA = 61, ERANGE = 34, ENOENT = 2;

    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LListXattr(string path, byte* list, nuint size);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LGetXattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LSetXattr(string path, string name, byte* value, nuint size, int flags);

    /// <summary>The attributes of <paramref name="path"/> sorted by name, or null when it has none.</summary>
    public static List<(string Name, byte[] Value)>? Read(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var size = LListXattr(path, null, 0);
        if (size == 0) return null;
        if (size < 0) return Errno() is ENOTSUP or ENOENT ? null : throw Fail("list the extended attributes of", path);
        var list = new byte[size + 256];
        fixed (byte* l = list) size = LListXattr(path, l, (nuint)list.Length);
        if (size < 0) throw Fail("list the extended attributes of", path);
        var result = new List<(string, byte[])>();
        foreach (var name in Encoding.UTF8.GetString(list, 0, (int)size).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            if (ReadOne(path, name) is { } value) result.Add((name, value));
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return result.Count > 0 ? result : null;
    }

    private static byte[]? ReadOne(string path, string name)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var size = LGetXattr(path, name, null, 0);
            if (size < 0) return Errno() == ENODATA ? null : throw Fail($"read the extended attribute '{name}' of", path);
            var value = new byte[size];
            fixed (byte* v = value) size = LGetXattr(path, name, v, (nuint)value.Length);
            if (size >= 0) return size == value.Length ? value : value[..(int)size];
            if (Errno() != ERANGE) throw Fail($"read the extended attribute '{name}' of", path);
        }
        throw Fail($"read the extended attribute '{name}' (it keeps growing) of", path);
    }

    /// <summary>Sets each attribute on <paramref name="path"/> (created or replaced).</summary>
    public static void Write(string path, IEnumerable<(string Name, byte[] Value)> attributes)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("Extended attributes are restored on Linux only.");
        foreach (var (name, value) in attributes)
        {
            int rc;
            fixed (byte* v = value) rc = LSetXattr(path, name, v, (nuint)value.Length, 0);
            if (rc != 0) throw Fail($"set the extended attribute '{name}' on", path);
        }
    }

    private static int Errno() => Marshal.GetLastPInvokeError();

    private static IOException Fail(string what, string path)
    {
        var errno = Errno();
        var why = errno switch { ENOTSUP => "not supported by this file system", 1 or 13 => "permission denied", _ => Native.Reason(errno) };
        return new IOException($"Could not {what} {path}: {why}.");
    }
}
