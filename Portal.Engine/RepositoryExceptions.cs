namespace Portal.Engine;

/// <summary>Base of the engine's own errors. Messages are safe to show: they never contain a passphrase or key.</summary>
public class RepositoryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The passphrase opens none of the repository's key objects.</summary>
public sealed class WrongPassphraseException(string? skipped = null)
    : RepositoryException("Wrong passphrase: it does not open any key of this repository." + (skipped is null ? "" : " " + skipped))
{
    /// <summary>The passphrase opens none of the repository's key objects.</summary>
    public WrongPassphraseException() : this(null) { }
}

/// <summary>None of the repository's key objects can be used (all damaged or hostile), whatever the passphrase.</summary>
public sealed class NoUsableKeyException(string detail)
    : RepositoryException($"No key object of this repository can be used: {detail} Restore a key object from a copy of the repository (keys/ in a replica or an older backup).");

/// <summary>A stored repository key (see <see cref="RepositoryKey"/>) does not open this repository.</summary>
public sealed class RepositoryKeyMismatchException()
    : RepositoryException("The stored key does not open this repository: it belongs to another vault, or the repository was created again. Open it with the passphrase.");

/// <summary>There is no repository at the given location (no key objects or no config).</summary>
public sealed class RepositoryNotFoundException(string location)
    : RepositoryException($"No repository found at '{location}'. Create one with init.");

/// <summary>Init was asked for a location that already holds a repository.</summary>
public sealed class RepositoryExistsException(string location)
    : RepositoryException($"A repository already exists at '{location}'.");

/// <summary>Another operation holds a lock that conflicts with this one (for example prune during a backup).</summary>
public sealed class RepositoryLockedException(string message) : RepositoryException(message);

/// <summary>Forget was asked to remove a snapshot before the time it must be kept until (an immutable vault's recovery point).</summary>
public sealed class SnapshotRetainedException(string message) : RepositoryException(message);

/// <summary>A stored object is missing, truncated or fails authentication.</summary>
public sealed class DamagedObjectException(string objectName, string problem, Exception? inner = null)
    : RepositoryException($"Damaged object '{objectName}': {problem}", inner)
{
    /// <summary>The name of the damaged object in the store.</summary>
    public string ObjectName { get; } = objectName;
}

/// <summary>No snapshot (recovery point) matches the given id, prefix or "latest".</summary>
public sealed class SnapshotNotFoundException(string reference)
    : RepositoryException($"No snapshot matches '{reference}'.");
