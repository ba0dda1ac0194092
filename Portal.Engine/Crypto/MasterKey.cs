using System.Security.Cryptography;
using System.Text;

namespace Portal.Engine.Crypto;

/// <summary>
/// The repository's random 256-bit master key and the subkeys derived from it with HKDF-SHA256:
/// the sealing key (AES-256-GCM), the chunk-id key (HMAC-SHA256), the chunker's gear table and the seed of
/// the file fingerprints.
/// The plaintext key never leaves memory; <see cref="Dispose"/> wipes it.
/// </summary>
internal sealed class MasterKey : IDisposable
{
    public const int Length = 32;
    private readonly byte[] _master;
    private readonly byte[] _sealKey;
    private readonly byte[] _idKey;
    private readonly ThreadLocal<AesGcm> _aes;
    private readonly ThreadLocal<IncrementalHash> _hmac;
    private const int ZeroRunMin = 4096;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, BlobId> _zeroIds = new();

    public MasterKey(byte[] master)
    {
        if (master.Length != Length) throw new ArgumentException("The master key is 32 bytes.", nameof(master));
        _master = master;
        _sealKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: Encoding.ASCII.GetBytes("portal/seal/aes-256-gcm"));
        _idKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: Encoding.ASCII.GetBytes("portal/id/hmac-sha256"));
        _aes = new ThreadLocal<AesGcm>(() => new AesGcm(_sealKey, Sealer.TagSize), trackAllValues: true);
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _idKey), trackAllValues: true);
    }

    /// <summary>A copy of the 32 plaintext key bytes, for a host that seals it (never to be stored or logged as is).</summary>
    public byte[] Export() => _master.ToArray();

    public static MasterKey CreateRandom() => new(RandomNumberGenerator.GetBytes(Length));

    /// <summary>The raw key, only for wrapping it in a key object.</summary>
    public ReadOnlySpan<byte> Raw => _master;

    /// <summary>The AES-GCM instance of the calling thread (AesGcm is not thread-safe).</summary>
    public AesGcm Aes => _aes.Value!;

    /// <summary>Keyed id of plaintext: HMAC-SHA256 with the id key, so the store never sees content fingerprints.</summary>
    public BlobId Id(ReadOnlySpan<byte> plaintext)
    {
        // Runs of zeros (unused space in disk images and database files) come back as the same few chunks over and
        // over: their ids are computed once per length. Any other chunk stops this check at its first non-zero byte.
        if (plaintext.Length >= ZeroRunMin && !plaintext.ContainsAnyExcept((byte)0))
            return _zeroIds.GetOrAdd(plaintext.Length, static (length, key) => key.ComputeId(new byte[length]), this);
        return ComputeId(plaintext);
    }

    /// <summary>The id of the bytes of <paramref name="parts"/> in order (a large tree written in segments).</summary>
    public BlobId Id(IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        if (parts.Count == 1) return Id(parts[0].Span);
        var hmac = _hmac.Value!;
        foreach (var part in parts) hmac.AppendData(part.Span);
        Span<byte> mac = stackalloc byte[32];
        hmac.GetHashAndReset(mac);
        return new BlobId(mac);
    }

    /// <summary>HMAC-SHA256 of <paramref name="plaintext"/> with the id key (<see cref="Id(ReadOnlySpan{byte})"/> without its cache).</summary>
    internal BlobId ComputeId(ReadOnlySpan<byte> plaintext)
    {
        // One keyed HMAC per thread, reset after each use: no key setup per chunk.
        var hmac = _hmac.Value!;
        hmac.AppendData(plaintext);
        Span<byte> mac = stackalloc byte[32];
        hmac.GetHashAndReset(mac);
        return new BlobId(mac);
    }

    /// <summary>The gear table of the chunker, secret so chunk boundaries do not reveal content.</summary>
    public ulong[] GearTable()
    {
        var bytes = HKDF.DeriveKey(HashAlgorithmName.SHA256, _master, 256 * 8, info: Encoding.ASCII.GetBytes("portal/chunker/gear"));
        var table = new ulong[256];
        for (var i = 0; i < 256; i++) table[i] = BitConverter.ToUInt64(bytes, i * 8);
        return table;
    }

    /// <summary>
    /// The seed of the XXH128 file fingerprints kept in trees (<see cref="Repository.Node.Fingerprint"/>): secret, so a
    /// fingerprint cannot be computed, or a colliding file crafted, without the key.
    /// </summary>
    public long FingerprintSeed()
    {
        var bytes = HKDF.DeriveKey(HashAlgorithmName.SHA256, _master, 8, info: Encoding.ASCII.GetBytes("portal/fingerprint/xxh128"));
        return System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(bytes); // as documented, on any platform
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_master);
        CryptographicOperations.ZeroMemory(_sealKey);
        CryptographicOperations.ZeroMemory(_idKey);
        foreach (var a in _aes.Values) a.Dispose();
        _aes.Dispose();
        foreach (var h in _hmac.Values) h.Dispose();
        _hmac.Dispose();
    }
}
