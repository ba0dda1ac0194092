using System.Buffers.Binary;
using System.Security.Cryptography;
using Portal.Engine.Crypto;
using Portal.Engine.Storage;

namespace Portal.Engine.Repository;

/// <summary>
/// A pack: sealed blobs back to back, then a sealed header listing them, then the header's length
/// (4 bytes little-endian). The header makes every pack self-describing, so a pack written by an
/// interrupted backup can be indexed later. Header entry: type (1), id (32), offset (4), length (4).
/// </summary>
internal static class PackFormat
{
    private const int EntrySize = 1 + BlobId.Size + 4 + 4;
    private static readonly byte[] HeaderAad = Repo.Aad("pack-header");

    public static byte[] SealHeader(MasterKey key, IReadOnlyList<(BlobId Id, byte Type, uint Offset, uint Length)> entries)
    {
        var plain = new byte[entries.Count * EntrySize];
        for (var i = 0; i < entries.Count; i++)
        {
            var s = plain.AsSpan(i * EntrySize, EntrySize);
            s[0] = entries[i].Type;
            entries[i].Id.WriteTo(s[1..]);
            BinaryPrimitives.WriteUInt32LittleEndian(s[33..], entries[i].Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(s[37..], entries[i].Length);
        }
        return Sealer.Seal(key, plain, HeaderAad);
    }

    /// <summary>Reads a pack's header from the store (two range reads). Throws on damage.</summary>
    public static async Task<List<(BlobId Id, byte Type, uint Offset, uint Length)>> ReadHeaderAsync(Repo repo, string packName, long packLength, CancellationToken ct)
    {
        if (packLength < 4) throw new InvalidDataException("pack too short");
        var tail = await repo.Store.GetRangeAsync(packName, packLength - 4, 4, ct).ConfigureAwait(false);
        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        if (headerLength > packLength - 4 || headerLength < Sealer.Overhead) throw new InvalidDataException("bad header length");
        var sealedHeader = await repo.Store.GetRangeAsync(packName, packLength - 4 - headerLength, (int)headerLength, ct).ConfigureAwait(false);
        byte[] plain;
        try { plain = Sealer.Open(repo.Key, sealedHeader, HeaderAad); }
        catch (CryptographicException e) { throw new InvalidDataException("header fails authentication", e); }
        if (plain.Length % EntrySize != 0) throw new InvalidDataException("bad header size");
        var list = new List<(BlobId, byte, uint, uint)>();
        for (var i = 0; i < plain.Length; i += EntrySize)
        {
            var s = plain.AsSpan(i, EntrySize);
            list.Add((new BlobId(s.Slice(1, 32)), s[0], BinaryPrimitives.ReadUInt32LittleEndian(s[33..]), BinaryPrimitives.ReadUInt32LittleEndian(s[37..])));
        }
        return list;
    }
}
