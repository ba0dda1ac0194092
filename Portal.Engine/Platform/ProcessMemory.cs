using System.Runtime.InteropServices;

namespace Portal.Engine.Platform;

/// <summary>Process-wide memory settings for short-lived engine processes (the CLI, the machine agent).</summary>
public static partial class ProcessMemory
{
    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);

    /// <summary>
    /// Caps glibc's malloc arenas at one per core (glibc's default allows eight per core, and every thread that meets
    /// contention gets its own arena, which keeps what it freed). The engine's native memory is zstd's and OpenSSL's
    /// contexts, used by a few workers at a time. Measured on the node_modules upgrade's first backup (38,000 files):
    /// peak RSS 113 MB with glibc's default, 104 MB with two arenas on two cores (bench/README.md, session 16). Call it
    /// first in Main: arenas made before it stay. Does nothing where glibc is not the C library.
    /// </summary>
    public static void LimitNativeArenas()
    {
        if (!OperatingSystem.IsLinux()) return;
        const int ArenaMax = -8; // M_ARENA_MAX
        try { Mallopt(ArenaMax, Math.Max(1, Environment.ProcessorCount)); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
    }
}
