using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Portal.Engine.Crypto;

/// <summary>A 256-bit identifier: a chunk's or tree's keyed hash, or an object's SHA-256 name.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct BlobId : IEquatable<BlobId>, IComparable<BlobId>
{
    public const int Size = 32;
    private readonly ulong _a, _b, _c, _d;

    public BlobId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new ArgumentException("A blob id is 32 bytes.", nameof(bytes));
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    public void WriteTo(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt64BigEndian(dest, _a);
        BinaryPrimitives.WriteUInt64BigEndian(dest[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(dest[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(dest[24..], _d);
    }

    public byte[] ToBytes()
    {
        var b = new byte[Size];
        WriteTo(b);
        return b;
    }

    public static BlobId Parse(string hex)
    {
        if (hex.Length != Size * 2) throw new FormatException($"'{hex}' is not a 64-digit hex id.");
        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
            throw new FormatException($"'{hex}' is not a 64-digit hex id.");
        return new BlobId(bytes);
    }

    public static bool TryParse(string hex, out BlobId id)
    {
        id = default;
        if (hex.Length != Size * 2) return false;
        foreach (var c in hex) if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        id = Parse(hex);
        return true;
    }

    public string ToHex()
    {
        Span<byte> b = stackalloc byte[Size];
        WriteTo(b);
        return Convert.ToHexStringLower(b);
    }

    public string Short => ToHex()[..8];

    /// <summary>The id's first eight bytes as a big-endian number: ids order by it first (the index buckets by it).</summary>
    public ulong Prefix => _a;

    /// <summary>Byte-wise (lexicographic) order of the 32 bytes.</summary>
    public int CompareTo(BlobId other) =>
        _a != other._a ? _a.CompareTo(other._a) : _b != other._b ? _b.CompareTo(other._b) : _c != other._c ? _c.CompareTo(other._c) : _d.CompareTo(other._d);

    public bool Equals(BlobId other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;
    public override bool Equals(object? obj) => obj is BlobId o && Equals(o);
    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);
    public static bool operator ==(BlobId l, BlobId r) => l.Equals(r);
    public static bool operator !=(BlobId l, BlobId r) => !l.Equals(r);
    public override string ToString() => ToHex();
}
