using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Portal.Engine;

namespace Portal.Agent.State;

/// <summary>
/// The agent's state folder: <c>agent.json</c> (<see cref="AgentState"/>), the machine's two private keys (PKCS#8 PEM:
/// <c>signing.key</c> ECDSA P-256, <c>agreement.key</c> ECDH P-256) and the repository key (<c>repository.key</c>). The
/// folder is the owner's alone (0700) and every file in it too (0600); a folder others can read is refused. Every file
/// is written atomically (a temporary file renamed into place), so a crash leaves the old file or the new one.
/// </summary>
internal sealed class StateStore
{
    /// <summary>The state folder when neither <c>--state</c> nor <see cref="EnvironmentVariable"/> names one.</summary>
    public const string DefaultFolder = "/var/lib/portal-agent";

    /// <summary>The environment variable naming the state folder.</summary>
    public const string EnvironmentVariable = "PORTAL_AGENT_STATE";

    internal const string StateFile = "agent.json";
    internal const string SigningKeyFile = "signing.key";
    internal const string AgreementKeyFile = "agreement.key";
    internal const string RepositoryKeyFile = "repository.key";

    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OthersMask = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                                            UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private StateStore(string folder) => Folder = folder;

    /// <summary>The state folder's full path.</summary>
    public string Folder { get; }

    /// <summary>The folder <c>--state</c> names, else <see cref="EnvironmentVariable"/>, else <see cref="DefaultFolder"/>.</summary>
    public static string Resolve(string? option) =>
        Path.GetFullPath(option is { Length: > 0 } ? option
            : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env ? env : DefaultFolder);

    /// <summary>Opens an existing state folder, checking that only its owner can read it; null when it does not exist.</summary>
    public static StateStore? OpenExisting(string folder)
    {
        if (!Directory.Exists(folder))
            return null;
        CheckPrivate(folder);
        return new StateStore(folder);
    }

    /// <summary>Opens the state folder, creating it owner-only (0700) when it is missing.</summary>
    public static StateStore OpenOrCreate(string folder)
    {
        if (OpenExisting(folder) is { } existing)
            return existing;
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(folder);
            }
            else
            {
                Directory.CreateDirectory(folder, FolderMode);
                File.SetUnixFileMode(folder, FolderMode); // the umask may have taken bits away, never added: set it exactly
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentException($"The state folder {folder} cannot be created: {e.Message} Run the agent as a user who may create it, or choose another with --state.", e);
        }

        return new StateStore(folder);
    }

    /// <summary>Opens the state folder of a registered machine, or says how to register.</summary>
    public static (StateStore Store, AgentState State) OpenRegistered(string folder)
    {
        var store = OpenExisting(folder);
        var state = store?.LoadState();
        if (store is null || state is null)
            throw new AgentException($"This machine is not registered (no {StateFile} in {folder}). Register it first: portal-agent register --credentials FILE" +
                                     (folder == Path.GetFullPath(DefaultFolder) ? "" : $" --state {folder}") + ".");
        return (store, state);
    }

    private static void CheckPrivate(string folder)
    {
        if (OperatingSystem.IsWindows())
            return;
        var mode = File.GetUnixFileMode(folder);
        if ((mode & OthersMask) != 0)
            throw new AgentException($"The state folder {folder} can be read by other users (mode {Octal(mode)}), and it holds this machine's keys. " +
                                     $"Make it the owner's alone (chmod 700 {folder}) and start again.");
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

    /// <summary>The full path of a file of the folder.</summary>
    public string PathOf(string name) => Path.Combine(Folder, name);

    /// <summary>Whether the folder holds a file.</summary>
    public bool Has(string name) => File.Exists(PathOf(name));

    /// <summary>The registration, or null when <c>agent.json</c> is missing.</summary>
    public AgentState? LoadState()
    {
        var bytes = ReadOrNull(StateFile);
        if (bytes is null)
            return null;
        try
        {
            return JsonSerializer.Deserialize(bytes, StateJson.Default.AgentState)
                   ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new AgentException($"{PathOf(StateFile)} is damaged ({e.Message}). Unregister the machine in the portal and register it again with new credentials.", e);
        }
    }

    /// <summary>Writes <c>agent.json</c>.</summary>
    public void SaveState(AgentState state) => WriteAtomic(StateFile, JsonSerializer.SerializeToUtf8Bytes(state, StateJson.Default.AgentState));

    /// <summary>Writes a private key (PKCS#8 PEM).</summary>
    public void SaveKey(string name, AsymmetricAlgorithm key) => WriteAtomic(name, Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"));

    /// <summary>Reads the machine's signing key.</summary>
    public ECDsa LoadSigningKey()
    {
        var key = ECDsa.Create();
        Import(key, SigningKeyFile);
        return key;
    }

    /// <summary>Reads the machine's agreement key.</summary>
    public ECDiffieHellman LoadAgreementKey()
    {
        var key = ECDiffieHellman.Create();
        Import(key, AgreementKeyFile);
        return key;
    }

    private void Import(AsymmetricAlgorithm key, string name)
    {
        var text = ReadOrNull(name) ?? throw new AgentException($"{PathOf(name)} is missing: the machine cannot prove who it is without it. " +
                                                                 "Unregister the machine in the portal and register it again with new credentials.");
        try
        {
            key.ImportFromPem(Encoding.ASCII.GetString(text));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new AgentException($"{PathOf(name)} is damaged. Unregister the machine in the portal and register it again with new credentials.", e);
        }
    }

    /// <summary>Writes the repository key (base64 of its 32 bytes).</summary>
    public void SaveRepositoryKey(RepositoryKey key) => WriteAtomic(RepositoryKeyFile, Encoding.ASCII.GetBytes(Convert.ToBase64String(key.ToBytes()) + "\n"));

    /// <summary>The repository key, or null when it was never saved.</summary>
    public RepositoryKey? LoadRepositoryKey()
    {
        var text = ReadOrNull(RepositoryKeyFile);
        if (text is null)
            return null;
        try
        {
            return new RepositoryKey(Convert.FromBase64String(Encoding.ASCII.GetString(text).Trim()));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new AgentException($"{PathOf(RepositoryKeyFile)} is damaged. Run 'portal-agent register' again with the machine's passphrase to write it again.", e);
        }
    }

    /// <summary>Deletes the registration and every secret of the folder (the folder itself stays).</summary>
    public IReadOnlyList<string> DeleteSecrets()
    {
        var deleted = new List<string>();
        foreach (var name in new[] { RepositoryKeyFile, SigningKeyFile, AgreementKeyFile, StateFile })
        {
            if (!Has(name))
                continue;
            File.Delete(PathOf(name));
            deleted.Add(name);
        }

        return deleted;
    }

    /// <summary>Writes a file owner-only (0600) through a temporary file renamed into place, flushed to disk first.</summary>
    internal void WriteAtomic(string name, byte[] bytes)
    {
        var path = PathOf(name);
        var temp = Path.Combine(Folder, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = OwnerFileMode;
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(temp, OwnerFileMode);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new AgentException($"{path} cannot be written: {e.Message} Check the space and the permissions of {Folder}.", e);
        }
    }

    private byte[]? ReadOrNull(string name)
    {
        try
        {
            return File.ReadAllBytes(PathOf(name));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentException($"{PathOf(name)} cannot be read: {e.Message} Run the agent as the user who registered it (often root).", e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the temporary file stays; it is never read
        }
    }
}
