namespace Portal.Engine.Storage;

/// <summary>The naming rules shared by every store.</summary>
public static class ObjectName
{
    /// <summary>
    /// Throws <see cref="InvalidObjectNameException"/> unless <paramref name="name"/> is one or more
    /// '/'-separated segments of <c>[a-z0-9._-]</c>, none empty, "." or "..", and no longer than 512 chars.
    /// </summary>
    public static void Validate(string name)
    {
        if (!IsValid(name)) throw new InvalidObjectNameException(name);
    }

    /// <summary>Prefixes for listing follow the same rules but may be empty or end with '/'.</summary>
    public static void ValidatePrefix(string prefix)
    {
        if (prefix.Length == 0) return;
        var trimmed = prefix.EndsWith('/') ? prefix[..^1] : prefix;
        if (!IsValid(trimmed)) throw new InvalidObjectNameException(prefix);
    }

    private static bool IsValid(string name)
    {
        if (name.Length is 0 or > 512) return false;
        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0 || segment == "." || segment == "..") return false;
            foreach (var c in segment)
            {
                var ok = c is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '_' or '-';
                if (!ok) return false;
            }
        }
        return true;
    }
}
