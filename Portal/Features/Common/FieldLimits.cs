namespace Portal.Features.Common;

/// <summary>
/// How much a text field of the portal takes. Blazor sends a field's whole value to the server on each input, in one
/// SignalR message of at most <see cref="CircuitMessageBytes"/>: a longer one drops the user's connection without a
/// word and loses the form (100 KB typed into a name did). Every field sets a maxlength no larger than
/// <see cref="Longest"/>, so even in 3-byte UTF-8 characters its message stays under the limit, and says so when it is full.
/// </summary>
public static class FieldLimits
{
    /// <summary>The portal's maximum SignalR message from the browser (the ASP.NET Core default, set explicitly).</summary>
    public const int CircuitMessageBytes = 32 * 1024;

    /// <summary>The longest a field may be: 3 bytes per character in UTF-8 and room for the message's envelope.</summary>
    public const int Longest = (CircuitMessageBytes - 4 * 1024) / 3;

    /// <summary>A search or filter box.</summary>
    public const int Search = 200;

    /// <summary>A name typed to confirm a deletion (the longest name: an item's).</summary>
    public const int Confirm = 256;

    /// <summary>A passphrase or password.</summary>
    public const int Secret = 1024;

    /// <summary>A host name (RFC 1035).</summary>
    public const int HostName = 253;

    /// <summary>A PostgreSQL identifier (a database or user name; PostgreSQL keeps 63 bytes).</summary>
    public const int Identifier = 63;

    /// <summary>A pre- or post-backup command.</summary>
    public const int Script = 4096;

    /// <summary>Null while <paramref name="value"/> is shorter than <paramref name="max"/>, else the message under the field.</summary>
    public static string? AtLimit(string? value, int max) =>
        value is not null && value.Length >= max ? $"At most {max:N0} characters: the rest was not taken." : null;
}
