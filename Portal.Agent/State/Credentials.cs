using System.Net;
using System.Text.Json;
using Portal.Engine.Agents;

namespace Portal.Agent.State;

/// <summary>Reads and checks a credentials file ("Add a machine" on a vault's page), and the portal addresses the agent accepts.</summary>
internal static class Credentials
{
    private const long MaxFileLength = 64 * 1024;
    private const string WhereToGetNew = "Download new credentials from the vault's page in the portal (\"Add a machine\").";

    /// <summary>The file's credentials, checked: readable, a credentials file of version 1, not expired at <paramref name="now"/>, an https portal.</summary>
    public static MachineCredentialsFile Load(string path, DateTimeOffset now)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new AgentException($"The credentials file {path} does not exist. {WhereToGetNew} Then give its path with --credentials.");
            if (info.Length > MaxFileLength)
                throw new AgentException($"{path} is not a machine credentials file (it is {info.Length:N0} bytes; one is under 1 KB). {WhereToGetNew}");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentException($"The credentials file {path} cannot be read: {e.Message}", e);
        }

        return Parse(bytes, path, now);
    }

    /// <summary>Checks a credentials file's content (see <see cref="Load"/>); <paramref name="path"/> names it in messages.</summary>
    public static MachineCredentialsFile Parse(ReadOnlySpan<byte> bytes, string path, DateTimeOffset now)
    {
        MachineCredentialsFile? file;
        try
        {
            file = JsonSerializer.Deserialize(bytes, WireJson.Default.MachineCredentialsFile);
        }
        catch (JsonException)
        {
            file = null;
        }

        if (file is { Version: > 1 })
            throw new AgentException($"{path} is a credentials file of version {file.Version}; this agent reads version 1. Update the agent, or {char.ToLowerInvariant(WhereToGetNew[0])}{WhereToGetNew[1..]}");
        if (file is null || file.VaultId == Guid.Empty || file.CredentialId == Guid.Empty || string.IsNullOrWhiteSpace(file.Secret) ||
            string.IsNullOrWhiteSpace(file.Portal) || file.Version != 1)
            throw new AgentException($"{path} is not a machine credentials file. {WhereToGetNew}");
        if (file.ExpiresAt <= now)
            throw new AgentException($"The credentials in {path} expired on {file.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC. {WhereToGetNew} They are valid for 10 days.");
        PortalAddress(file.Portal, $"The portal address in {path}");
        return file;
    }

    /// <summary>
    /// The portal's address, if it is https (or http to a loopback address, for tests); otherwise a clear error naming
    /// <paramref name="what"/>.
    /// </summary>
    public static Uri PortalAddress(string address, string what)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw new AgentException($"{what} ({address}) is not a web address. {WhereToGetNew}");
        if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri))
            throw new AgentException($"{what} ({address}) is not https: the agent sends its keys' proofs and its backups only over https " +
                                     "(http only to this machine itself, for tests). Serve the portal over https and download new credentials.");
        return uri;
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var ip) && IPAddress.IsLoopback(ip));
}
