namespace Portal.Engine.Storage;

/// <summary>Base of every error a store raises. <see cref="IsTransient"/> says whether a retry may succeed.</summary>
public class StoreException : Exception
{
    /// <summary>Creates a store error.</summary>
    public StoreException(string message, bool isTransient, Exception? inner = null) : base(message, inner) =>
        IsTransient = isTransient;

    /// <summary>True when the same call may succeed if retried (timeouts, throttling, a busy disk).</summary>
    public bool IsTransient { get; }
}

/// <summary>The named object does not exist (permanent).</summary>
public sealed class ObjectNotFoundException(string name, Exception? inner = null)
    : StoreException($"Object '{name}' does not exist.", false, inner)
{
    /// <summary>The missing object's name.</summary>
    public string ObjectName { get; } = name;
}

/// <summary>A put named an existing object with different content (permanent): objects are write-once.</summary>
public sealed class ObjectExistsException(string name)
    : StoreException($"Object '{name}' already exists with different content; objects are write-once.", false)
{
    /// <summary>The object's name.</summary>
    public string ObjectName { get; } = name;
}

/// <summary>An object is shorter than the range asked for (permanent): it was truncated or damaged.</summary>
public sealed class ObjectTruncatedException(string name, long length, long wantedEnd)
    : StoreException($"Object '{name}' is truncated: {length} bytes, but bytes up to {wantedEnd} were expected.", false)
{
    /// <summary>The object's name.</summary>
    public string ObjectName { get; } = name;
}

/// <summary>An object name breaks the naming rules of <see cref="ObjectName.Validate"/> (permanent).</summary>
public sealed class InvalidObjectNameException(string name)
    : StoreException($"'{name}' is not a valid object name.", false);
