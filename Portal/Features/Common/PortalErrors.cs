namespace Portal.Features.Common;

/// <summary>An operation the portal refused with a message for the user (nothing was changed).</summary>
public abstract class PortalException(string message) : Exception(message);

/// <summary>Input that breaks a rule; <see cref="Errors"/> maps a field name to what is wrong with it. Nothing was saved.</summary>
public sealed class PortalValidationException(IReadOnlyDictionary<string, string> errors)
    : PortalException(string.Join(" ", errors.Values))
{
    public IReadOnlyDictionary<string, string> Errors { get; } = errors;

    public PortalValidationException(string field, string message)
        : this(new Dictionary<string, string> { [field] = message })
    {
    }
}

/// <summary>The operation is refused by the current state (a rule or someone else's change). Nothing was saved.</summary>
public sealed class PortalConflictException(string message) : PortalException(message);

/// <summary>The signed-in user's roles do not allow the operation.</summary>
public sealed class PortalAccessDeniedException(string message) : PortalException(message);

/// <summary>The thing asked for does not exist (any more).</summary>
public sealed class PortalNotFoundException(string message) : PortalException(message);
