using System.Buffers.Binary;
using System.Text.Json;
using Portal.Engine.Crypto;

namespace Portal.Engine.Repository;

/// <summary>One pack as an index object lists it: its id and, per blob, id, type, offset and sealed length.</summary>
internal sealed record IndexedPack(BlobId Id, IReadOnlyList<(BlobId Id, byte Type, uint Offset, uint Length)> Blobs);

/// <summary>
/// The plaintext of index objects. Written as version 2 (binary: <c>"PIX" 2 | u32 packs | per pack: id[32] u32
/// blobs | per blob: id[32] type u8 offset u32 length u32</c>, little-endian): 41 bytes a blob, read about ten times
/// faster than the JSON of version 1, which every backup, restore and check loads whole. Version 1 (JSON, starting
/// with <c>{</c>) is still read: readers choose by what is stored.
/// </summary>
internal static class IndexCodec
{
    private static ReadOnlySpan<byte> Magic => "PIX\u0002"u8;
    private const int PackHeader = BlobId.Size + 4, BlobEntry = BlobId.Size + 1 + 4 + 4;

    public static byte[] Encode(IReadOnlyList<IndexedPack> packs)
    {
        var size = Magic.Length + 4 + packs.Sum(p => PackHeader + p.Blobs.Count * BlobEntry);
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], packs.Count);
        var at = 8;
        foreach (var pack in packs)
        {
            pack.Id.WriteTo(span[at..]);
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + BlobId.Size)..], pack.Blobs.Count);
            at += PackHeader;
            foreach (var (id, type, offset, length) in pack.Blobs)
            {
                id.WriteTo(span[at..]);
                span[at + BlobId.Size] = type;
                BinaryPrimitives.WriteUInt32LittleEndian(span[(at + BlobId.Size + 1)..], offset);
                BinaryPrimitives.WriteUInt32LittleEndian(span[(at + BlobId.Size + 5)..], length);
                at += BlobEntry;
            }
        }
        return bytes;
    }

    /// <summary>Reads version 2 or version 1; throws <see cref="InvalidDataException"/> or <see cref="JsonException"/> on anything malformed.</summary>
    public static List<IndexedPack> Decode(ReadOnlySpan<byte> plain)
    {
        if (plain.Length > 0 && plain[0] == (byte)'{') return FromJson(plain);
        if (plain.Length < 8 || !plain[..4].SequenceEqual(Magic)) throw new InvalidDataException("unknown index format.");
        var packCount = BinaryPrimitives.ReadInt32LittleEndian(plain[4..]);
        var at = 8;
        // Every count is checked against the bytes left before anything is allocated for it.
        if (packCount < 0 || packCount > (plain.Length - at) / PackHeader) throw new InvalidDataException("bad pack count.");
        var packs = new List<IndexedPack>(packCount);
        for (var p = 0; p < packCount; p++)
        {
            if (plain.Length - at < PackHeader) throw new InvalidDataException("index truncated.");
            var packId = new BlobId(plain.Slice(at, BlobId.Size));
            var blobCount = BinaryPrimitives.ReadInt32LittleEndian(plain[(at + BlobId.Size)..]);
            at += PackHeader;
            if (blobCount < 0 || blobCount > (plain.Length - at) / BlobEntry) throw new InvalidDataException("bad blob count.");
            var blobs = new (BlobId, byte, uint, uint)[blobCount];
            for (var b = 0; b < blobCount; b++, at += BlobEntry)
            {
                var type = plain[at + BlobId.Size];
                if (type > Repo.TreeBlob) throw new InvalidDataException($"unknown blob type {type}.");
                blobs[b] = (new BlobId(plain.Slice(at, BlobId.Size)), type,
                    BinaryPrimitives.ReadUInt32LittleEndian(plain[(at + BlobId.Size + 1)..]), BinaryPrimitives.ReadUInt32LittleEndian(plain[(at + BlobId.Size + 5)..]));
            }
            packs.Add(new IndexedPack(packId, blobs));
        }
        if (at != plain.Length) throw new InvalidDataException("trailing bytes after the index.");
        return packs;
    }

    private static List<IndexedPack> FromJson(ReadOnlySpan<byte> json)
    {
        var file = JsonSerializer.Deserialize(json, RepoJson.Default.IndexFile) ?? throw new InvalidDataException("empty index.");
        try
        {
            return file.Packs.Select(p => new IndexedPack(BlobId.Parse(p.Id),
                p.Blobs.Select(b => (BlobId.Parse(b.Id), b.Type, b.Offset, b.Length)).ToArray())).ToList();
        }
        catch (FormatException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }
}
