using System.Text;
using BenchmarkDotNet.Attributes;
using Portal.Engine.Chunking;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Repository;

namespace Portal.Bench;

/// <summary>
/// The per-byte work of a backup: chunking, keyed hashing, compression and sealing, on random
/// (incompressible) and text (compressible) data. Throughput = bytes / mean time.
/// </summary>
[MemoryDiagnoser]
public class ChunkPathBenchmarks
{
    private const int BufferSize = 16 * 1024 * 1024;
    private MasterKey _key = null!;
    private FastCdc _cdc = null!;
    private byte[] _random = null!;
    private byte[] _text = null!;
    private byte[] _chunkRandom = null!;
    private byte[] _chunkText = null!;
    private byte[] _sealedText = null!;
    private byte[] _aad = null!;

    [GlobalSetup]
    public void Setup()
    {
        _key = MasterKey.CreateRandom();
        _cdc = new FastCdc(_key.GearTable(), ChunkerParams.Default);
        _random = new byte[BufferSize];
        new Random(1).NextBytes(_random);
        var sb = new StringBuilder();
        var rng = new Random(2);
        string[] words = ["backup", "vault", "restore", "policy", "snapshot", "chunk", "index", "pack", "region", "the", "of", "and"];
        while (sb.Length < BufferSize) sb.Append(words[rng.Next(words.Length)]).Append(rng.Next(100) < 10 ? '\n' : ' ');
        _text = Encoding.ASCII.GetBytes(sb.ToString(0, BufferSize));
        _chunkRandom = _random[..(128 * 1024)];
        _chunkText = _text[..(128 * 1024)];
        _aad = Repo.BlobAad(Repo.DataBlob, _key.Id(_chunkText));
        _sealedText = BlobCodec.Encode(_key, _chunkText, _aad);
    }

    [GlobalCleanup]
    public void Cleanup() => _key.Dispose();

    /// <summary>FastCDC over 16 MiB of random data.</summary>
    [Benchmark]
    public int Chunk16MiB()
    {
        int pos = 0, chunks = 0;
        while (pos < _random.Length)
        {
            pos += _cdc.Cut(_random.AsSpan(pos, Math.Min(ChunkerParams.Default.Max, _random.Length - pos)));
            chunks++;
        }
        return chunks;
    }

    /// <summary>HMAC-SHA256 chunk id of 16 MiB in 128 KiB chunks.</summary>
    [Benchmark]
    public int Hash16MiB()
    {
        var h = 0;
        for (var pos = 0; pos < _random.Length; pos += 128 * 1024) h ^= _key.Id(_random.AsSpan(pos, 128 * 1024)).GetHashCode();
        return h;
    }

    /// <summary>Compress (sample says no) and seal one random 128 KiB chunk.</summary>
    [Benchmark]
    public byte[] EncodeRandomChunk() => BlobCodec.Encode(_key, _chunkRandom, _aad);

    /// <summary>Compress with zstd and seal one text 128 KiB chunk.</summary>
    [Benchmark]
    public byte[] EncodeTextChunk() => BlobCodec.Encode(_key, _chunkText, _aad);

    /// <summary>AES-256-GCM only, one 128 KiB chunk.</summary>
    [Benchmark]
    public byte[] SealChunk() => Sealer.Seal(_key, _chunkRandom, _aad);

    /// <summary>Open and decompress one text chunk (the restore path).</summary>
    [Benchmark]
    public byte[] DecodeTextChunk() => BlobCodec.Decode(_key, _sealedText, _aad);
}
