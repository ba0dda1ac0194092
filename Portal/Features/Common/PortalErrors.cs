namespace Portal.Features.Common;

/// <summary>Input that breaks a rule; <see cref="Errors"/> maps a field name to what is wrong with it. Nothing was saved.</summary>
public sealed class PortalValidationException(IReadOnlyDictionary<string, string> errors)
    : Exception(string.Join(" ", errors.Values))
{
    public IReadOnlyDictionary<string, string> Errors { get; } = errors;

    public PortalValidationException(string field, string message)
        : this(new Dictionary<string, string> { [field] = message })
    {
    }
}

/// <summary>The operation is refused by the current state (a rule or someone else's change). Nothing was saved.</summary>
public sealed class PortalConflictException(string message) : Exception(message);

/// <summary>The signed-in user's roles do not allow the operation.</summary>
public sealed class PortalAccessDeniedException(string message) : Exception(message);

/// <summary>The thing asked for does not exist (any more).</summary>
public sealed class PortalNotFoundException(string message) : Exception(message);
