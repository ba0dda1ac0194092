using System.Runtime.InteropServices;
using ZstdSharp.Unsafe;

namespace Portal.Engine.Compression;

/// <summary>
/// zstd compression and decompression contexts, pooled and used through the one-shot simple API (for the many
/// small chunks of a source tree it costs about 40 % less per call than <c>ZstdSharp.Compressor.Wrap</c>, which
/// resets and re-applies parameters every time). Uses the reference C library (libzstd, Debian package
/// <c>libzstd1</c>) when the system has it: compress+seal of the benchmark data took 1.9 s instead of 2.6 s with the
/// managed port, and compression was most of a first backup's CPU time. Both write and read the same zstd frames (a test crosses them);
/// without the library, or with <c>PORTAL_MANAGED_ZSTD=1</c>, the managed port (ZstdSharp) is used.
/// </summary>
internal abstract class ZstdContext
{
    /// <summary>
    /// Contexts not in use. Pooled, not one per thread: a backup's async workers run on whichever pool threads are
    /// free, and a context per thread ever used (each about a megabyte of native memory) added to the peak.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentBag<ZstdContext> s_idle = [];

    /// <summary>True when libzstd was found and is used.</summary>
    public static bool IsNative => NativeZstd.Api is not null;

    /// <summary>Compresses with a pooled context (see <see cref="CompressFrame"/>).</summary>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        var context = Rent();
        try { return context.CompressFrame(source, destination, level); }
        finally { s_idle.Add(context); }
    }

    /// <summary>Decompresses with a pooled context (see <see cref="DecompressFrame"/>).</summary>
    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var context = Rent();
        try { return context.DecompressFrame(source, destination); }
        finally { s_idle.Add(context); }
    }

    private static ZstdContext Rent() => s_idle.TryTake(out var c) ? c : IsNative ? new NativeZstd() : CreateManaged();

    /// <summary>
    /// A context of the managed port whatever the system has (tests compare the two). Not inlined: the managed port's
    /// assembly then loads only when it is used.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static ZstdContext CreateManaged() => new ManagedZstd();

    /// <summary>A context of libzstd, or null without the library.</summary>
    public static ZstdContext? CreateNative() => IsNative ? new NativeZstd() : null;

    /// <summary>The largest compressed size of <paramref name="length"/> bytes: zstd's ZSTD_COMPRESSBOUND (computed here so
    /// the managed port is not even loaded when the system library is used).</summary>
    public static int CompressBound(int length) =>
        length + (length >> 8) + (length < 128 * 1024 ? (128 * 1024 - length) >> 11 : 0);

    /// <summary>Compresses into <paramref name="destination"/> (at least <see cref="CompressBound"/> long); returns the length.</summary>
    public abstract int CompressFrame(ReadOnlySpan<byte> source, Span<byte> destination, int level);

    /// <summary>Decompresses; throws <see cref="InvalidDataException"/> on corrupt input.</summary>
    public abstract int DecompressFrame(ReadOnlySpan<byte> source, Span<byte> destination);

    private sealed unsafe class ManagedZstd : ZstdContext
    {
        private readonly ZSTD_CCtx_s* _cctx = Methods.ZSTD_createCCtx();
        private readonly ZSTD_DCtx_s* _dctx = Methods.ZSTD_createDCtx();

        public override int CompressFrame(ReadOnlySpan<byte> source, Span<byte> destination, int level)
        {
            fixed (byte* s = source)
            fixed (byte* d = destination)
            {
                var n = Methods.ZSTD_compressCCtx(_cctx, d, (nuint)destination.Length, s, (nuint)source.Length, level);
                if (Methods.ZSTD_isError(n)) throw new InvalidOperationException($"zstd compression failed: {Methods.ZSTD_getErrorCode(n)}");
                return (int)n;
            }
        }

        public override int DecompressFrame(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            fixed (byte* s = source)
            fixed (byte* d = destination)
            {
                var n = Methods.ZSTD_decompressDCtx(_dctx, d, (nuint)destination.Length, s, (nuint)source.Length);
                if (Methods.ZSTD_isError(n)) throw new InvalidDataException("Corrupt zstd data.");
                return (int)n;
            }
        }

        ~ManagedZstd()
        {
            Methods.ZSTD_freeCCtx(_cctx);
            Methods.ZSTD_freeDCtx(_dctx);
        }
    }

    private sealed unsafe class NativeZstd : ZstdContext
    {
        public static readonly Functions? Api = Load();
        // Each made on first use: a backup mostly compresses and a restore only decompresses.
        private nint _cctx, _dctx;

        public override int CompressFrame(ReadOnlySpan<byte> source, Span<byte> destination, int level)
        {
            fixed (byte* s = source)
            fixed (byte* d = destination)
            {
                if (_cctx == 0) _cctx = Api!.CreateCCtx();
                var n = Api!.CompressCCtx(_cctx, d, (nuint)destination.Length, s, (nuint)source.Length, level);
                if (Api.IsError(n) != 0) throw new InvalidOperationException($"zstd compression failed: error {unchecked(-(long)n)}");
                return (int)n;
            }
        }

        public override int DecompressFrame(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            fixed (byte* s = source)
            fixed (byte* d = destination)
            {
                if (_dctx == 0) _dctx = Api!.CreateDCtx();
                var n = Api!.DecompressDCtx(_dctx, d, (nuint)destination.Length, s, (nuint)source.Length);
                if (Api.IsError(n) != 0) throw new InvalidDataException("Corrupt zstd data.");
                return (int)n;
            }
        }

        ~NativeZstd()
        {
            if (_cctx != 0) Api!.FreeCCtx(_cctx);
            if (_dctx != 0) Api!.FreeDCtx(_dctx);
        }

        private static Functions? Load()
        {
            if (Environment.GetEnvironmentVariable("PORTAL_MANAGED_ZSTD") == "1") return null;
            foreach (var name in new[] { "libzstd.so.1", "libzstd.so", "libzstd.1.dylib", "libzstd" })
            {
                if (!NativeLibrary.TryLoad(name, out var lib)) continue;
                var f = new Functions();
                if (Export(lib, "ZSTD_createCCtx", out var createC) && Export(lib, "ZSTD_createDCtx", out var createD)
                    && Export(lib, "ZSTD_freeCCtx", out var freeC) && Export(lib, "ZSTD_freeDCtx", out var freeD)
                    && Export(lib, "ZSTD_compressCCtx", out var compress) && Export(lib, "ZSTD_decompressDCtx", out var decompress)
                    && Export(lib, "ZSTD_isError", out var isError) && Export(lib, "ZSTD_versionNumber", out var version)
                    && ((delegate* unmanaged<uint>)version)() >= 10400) // 1.4.0: the one-shot API as used here
                {
                    f.CreateCCtx = (delegate* unmanaged<nint>)createC;
                    f.CreateDCtx = (delegate* unmanaged<nint>)createD;
                    f.FreeCCtx = (delegate* unmanaged<nint, nuint>)freeC;
                    f.FreeDCtx = (delegate* unmanaged<nint, nuint>)freeD;
                    f.CompressCCtx = (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, int, nuint>)compress;
                    f.DecompressDCtx = (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint>)decompress;
                    f.IsError = (delegate* unmanaged<nuint, uint>)isError;
                    return f;
                }
            }
            return null;
        }

        private static bool Export(nint lib, string name, out nint fn) => NativeLibrary.TryGetExport(lib, name, out fn);
    }

    private sealed unsafe class Functions
    {
        public delegate* unmanaged<nint> CreateCCtx;
        public delegate* unmanaged<nint> CreateDCtx;
        public delegate* unmanaged<nint, nuint> FreeCCtx;
        public delegate* unmanaged<nint, nuint> FreeDCtx;
        public delegate* unmanaged<nint, byte*, nuint, byte*, nuint, int, nuint> CompressCCtx;
        public delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint> DecompressDCtx;
        public delegate* unmanaged<nuint, uint> IsError;
    }
}
