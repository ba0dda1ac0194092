namespace Portal.Engine;

/// <summary>
/// A repository's unwrapped 32-byte master key (<see cref="BackupEngine.ExportKey"/>). Its <see cref="ToString"/> never
/// shows the bytes, so it cannot leak into a log by accident.
/// </summary>
public sealed class RepositoryKey
{
    private readonly byte[] bytes;

    /// <summary>Wraps 32 key bytes (from <see cref="ToBytes"/> of an earlier export, unsealed by the host).</summary>
    public RepositoryKey(byte[] bytes)
    {
        if (bytes.Length != 32) throw new ArgumentException("A repository key is 32 bytes.", nameof(bytes));
        this.bytes = bytes.ToArray();
    }

    /// <summary>A copy of the key bytes, for sealing.</summary>
    public byte[] ToBytes() => bytes.ToArray();

    /// <inheritdoc />
    public override string ToString() => "RepositoryKey(hidden)";
}
