using System.Runtime.InteropServices;
using Konscious.Security.Cryptography;

namespace Portal.Engine.Crypto;

/// <summary>
/// Argon2id (version 1.3, no secret, no associated data). Uses the reference C library (libargon2, Debian
/// package <c>libargon2-1</c>) when the system has it: about ten times faster than the managed
/// implementation, which matters because every CLI command derives the key once (a no-change backup
/// spent a third of its time here). Both compute the same function (a test compares them); without the
/// library the managed one is used.
/// </summary>
internal static unsafe class Argon2
{
    private static readonly delegate* unmanaged<uint, uint, uint, byte*, nuint, byte*, nuint, byte*, nuint, int> NativeHashRaw = LoadNative();

    /// <summary>True when libargon2 was found and is used.</summary>
    public static bool IsNative => NativeHashRaw != null;

    public static byte[] DeriveId(byte[] password, byte[] salt, int memoryKiB, int iterations, int parallelism, int length, bool forceManaged = false)
    {
        if (NativeHashRaw != null && !forceManaged)
        {
            var hash = new byte[length];
            int rc;
            fixed (byte* p = password)
            fixed (byte* s = salt)
            fixed (byte* h = hash)
                rc = NativeHashRaw((uint)iterations, (uint)memoryKiB, (uint)parallelism, p, (nuint)password.Length, s, (nuint)salt.Length, h, (nuint)length);
            if (rc == 0) return hash;
            // A parameter the C library refuses (it has the same limits as the managed one): let the managed one
            // decide, so the result or the error is the same with or without the library.
        }
        return DeriveManaged(password, salt, memoryKiB, iterations, parallelism, length);
    }

    /// <summary>The managed implementation; not inlined, so its assembly loads only when it is used.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static byte[] DeriveManaged(byte[] password, byte[] salt, int memoryKiB, int iterations, int parallelism, int length)
    {
        using var argon = new Argon2id(password) { Salt = salt, MemorySize = memoryKiB, Iterations = iterations, DegreeOfParallelism = parallelism };
        return argon.GetBytes(length);
    }

    private static delegate* unmanaged<uint, uint, uint, byte*, nuint, byte*, nuint, byte*, nuint, int> LoadNative()
    {
        if (Environment.GetEnvironmentVariable("PORTAL_MANAGED_ARGON2") == "1") return null;
        foreach (var name in new[] { "libargon2.so.1", "libargon2.so", "libargon2.1.dylib", "argon2" })
        {
            if (NativeLibrary.TryLoad(name, out var lib) && NativeLibrary.TryGetExport(lib, "argon2id_hash_raw", out var fn))
                return (delegate* unmanaged<uint, uint, uint, byte*, nuint, byte*, nuint, byte*, nuint, int>)fn;
        }
        return null;
    }
}
