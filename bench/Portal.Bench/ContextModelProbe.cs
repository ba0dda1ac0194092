using System.Diagnostics;
using Portal.Engine.Compression;

namespace Portal.Bench;

/// <summary>
/// "order3 DIR": would a trained order-3 context model with rANS beat zstd enough to be worth a format change?
/// Trains a static order-3 model (the previous three bytes select a frequency table, 16-bit probabilities) on the
/// first 8 MiB of the folder's files, then codes every file (in 1 MiB pieces) on its own (as the backup codes a chunk) with it and with
/// zstd level 1, decodes and compares, and prints sizes and single-thread speeds. Not used by the product: the figures
/// back the decision in bench/README.md (the stored-size goal of issue 3).
/// </summary>
internal static class ContextModelProbe
{
    private const int ScaleBits = 16, M = 1 << ScaleBits;
    private const uint L = 1u << 23; // rANS state lower bound: 32-bit state, renormalized a byte at a time
    private const int SampleBytes = 8 << 20, Piece = 1 << 20;

    public static void Run(string dir)
    {
        var files = Directory.EnumerateFiles(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Order(StringComparer.Ordinal).Select(File.ReadAllBytes).Where(d => d.Length > 0)
            .SelectMany(d => d.Chunk(Piece)).ToList(); // a large file in pieces of the size of a large file's chunks
        var model = Model.Train(files, SampleBytes);
        Console.WriteLine($"{files.Count} files or 1 MiB pieces, {files.Sum(f => (long)f.Length) / 1e6:F1} MB; model: {model.Contexts} order-3 contexts from {SampleBytes >> 20} MiB");

        long raw = 0, rans = 0, zstd = 0;
        var (enc, dec, zc, zd) = (new Stopwatch(), new Stopwatch(), new Stopwatch(), new Stopwatch());
        var output = new byte[2 * Piece];
        var back = new byte[Piece];
        foreach (var data in files)
        {
            raw += data.Length;
            enc.Start();
            var n = model.Encode(data, output);
            enc.Stop();
            dec.Start();
            model.Decode(output.AsSpan(output.Length - n, n), back.AsSpan(0, data.Length));
            dec.Stop();
            if (!back.AsSpan(0, data.Length).SequenceEqual(data)) throw new InvalidOperationException("rANS round trip failed");
            rans += n;
            zc.Start();
            var z = ZstdContext.Compress(data, output, BlobCodec.Level);
            zc.Stop();
            zd.Start();
            ZstdContext.Decompress(output.AsSpan(0, z), back.AsSpan(0, data.Length));
            zd.Stop();
            zstd += Math.Min(z, data.Length);
        }
        static string Speed(long bytes, Stopwatch sw) => $"{bytes / 1e6 / sw.Elapsed.TotalSeconds,6:F0} MB/s";
        Console.WriteLine($"zstd-1   {zstd / 1e6,8:F2} MB  compress {Speed(raw, zc)}  decompress {Speed(raw, zd)}");
        Console.WriteLine($"o3 rANS  {rans / 1e6,8:F2} MB  encode   {Speed(raw, enc)}  decode     {Speed(raw, dec)}");
    }

    /// <summary>A static order-3 model: per context, every byte's frequency (at least 1, summing to 2^16).</summary>
    private sealed class Model
    {
        private readonly Dictionary<int, int> _slots; // previous three bytes -> table; slot 0 is order 0, for unseen contexts
        private const int HashBits = 13; // open addressing: contexts -> table, far smaller (and kinder to the TLB) than 2^24 slots
        private const int MaxContexts = 4095; // the commonest; the others use order 0
        private readonly int[] _keys = new int[1 << HashBits];
        private readonly ushort[] _values = new ushort[1 << HashBits];
        private readonly ushort[] _freq, _cum;
        private const int BucketBits = 10; // the decoder finds a symbol through 2^10 buckets per table, then a short scan
        private readonly byte[] _firstInBucket;

        private Model(Dictionary<int, int> slots, ushort[] freq, ushort[] cum)
        {
            (_slots, _freq, _cum) = (slots, freq, cum);
            Array.Fill(_keys, -1);
            foreach (var (context, slot) in slots)
            {
                var h = Hash(context);
                while (_keys[h] != -1) h = (h + 1) & ((1 << HashBits) - 1);
                (_keys[h], _values[h]) = (context, (ushort)slot);
            }
            var tables = freq.Length / 256;
            _firstInBucket = new byte[tables << BucketBits];
            for (var t = 0; t < tables; t++)
                for (int s = 0, b = 0; b < 1 << BucketBits; b++)
                {
                    var start = b << (ScaleBits - BucketBits);
                    while (cum[t * 256 + s] + freq[t * 256 + s] < start) s++; // the symbol whose range holds the bucket's start
                    _firstInBucket[(t << BucketBits) + b] = (byte)s;
                }
        }

        public int Contexts => _slots.Count;

        private static int Hash(int context) => (int)((uint)(context * -1640531535) >> (32 - HashBits));

        private int SlotOf(int context)
        {
            for (var h = Hash(context); ; h = (h + 1) & ((1 << HashBits) - 1))
            {
                var k = _keys[h];
                if (k == context) return _values[h];
                if (k == -1) return 0; // unseen: order 0
            }
        }

        public static Model Train(List<byte[]> files, int sampleBytes)
        {
            var counts = new Dictionary<int, long[]>();
            var order0 = new long[256];
            long taken = 0;
            foreach (var data in files)
            {
                if (taken >= sampleBytes) break;
                taken += data.Length;
                var context = 0;
                foreach (var b in data)
                {
                    if (!counts.TryGetValue(context, out var c)) counts[context] = c = new long[256];
                    c[b]++;
                    order0[b]++;
                    context = ((context << 8) | b) & 0xFFFFFF;
                }
            }
            var slots = new Dictionary<int, int>();
            var tables = new List<long[]> { order0 };
            foreach (var (context, c) in counts.OrderByDescending(kv => kv.Value.Sum()).Take(MaxContexts)) { slots[context] = tables.Count; tables.Add(c); }
            var freq = new ushort[tables.Count * 256];
            var cum = new ushort[tables.Count * 256];
            for (var t = 0; t < tables.Count; t++)
            {
                var c = tables[t];
                var total = c.Sum();
                var f = new int[256];
                for (var s = 0; s < 256; s++) f[s] = (int)Math.Max(1, c[s] * (M - 256) / total);
                var top = Array.IndexOf(c, c.Max());
                f[top] += M - f.Sum(); // the rounding remainder goes to the likeliest byte
                var start = 0;
                for (var s = 0; s < 256; s++) { freq[t * 256 + s] = (ushort)(f[s] - 1); cum[t * 256 + s] = (ushort)start; start += f[s]; }
            }
            return new Model(slots, freq, cum);
        }

        /// <summary>Encodes into the end of <paramref name="output"/>; returns the length (the state, then the bytes).</summary>
        public int Encode(ReadOnlySpan<byte> data, Span<byte> output)
        {
            var pos = output.Length;
            var x = L;
            for (var i = data.Length - 1; i >= 0; i--)
            {
                var context = (i > 0 ? data[i - 1] : 0) | (i > 1 ? data[i - 2] << 8 : 0) | (i > 2 ? data[i - 3] << 16 : 0);
                var e = SlotOf(context) * 256 + data[i];
                uint f = _freq[e] + 1u, start = _cum[e];
                var max = ((L >> ScaleBits) << 8) * f;
                while (x >= max) { output[--pos] = (byte)x; x >>= 8; }
                x = ((x / f) << ScaleBits) + (x % f) + start;
            }
            pos -= 4;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(output[pos..], x);
            return output.Length - pos;
        }

        public void Decode(ReadOnlySpan<byte> input, Span<byte> output)
        {
            var x = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(input);
            var pos = 4;
            var context = 0;
            for (var i = 0; i < output.Length; i++)
            {
                var t = SlotOf(context);
                var slot = x & (M - 1);
                var s = (int)_firstInBucket[(t << BucketBits) + (int)(slot >> (ScaleBits - BucketBits))];
                while (slot - _cum[t * 256 + s] > _freq[t * 256 + s]) s++;
                var k = t * 256 + s;
                x = (_freq[k] + 1u) * (x >> ScaleBits) + slot - _cum[k];
                while (x < L) x = (x << 8) | input[pos++];
                output[i] = (byte)s;
                context = ((context << 8) | s) & 0xFFFFFF;
            }
        }
    }
}
