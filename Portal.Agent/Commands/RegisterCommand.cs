using Portal.Agent.Connection;
using Portal.Agent.State;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Crypto;
using Portal.Engine.Storage;

namespace Portal.Agent.Commands;

/// <summary>
/// <c>register</c>: registers this machine to a vault with a credentials file, then makes its repository and escrows
/// its key. Nothing is written before the credentials, the portal's address and the passphrase are checked. When the
/// portal registered the machine but a later step failed, running <c>register</c> again finishes the repository step.
/// </summary>
internal static class RegisterCommand
{
    public const string Help = """
        portal-agent register --credentials FILE [--passphrase-file FILE] [--name NAME] [--state DIR]
          Registers this machine to the vault the credentials file names ("Add a machine" on the vault's page in the
          portal: single use, valid 10 days), makes its repository in the vault, and keeps its keys in the state folder.
          --credentials FILE       the downloaded credentials (*.portalcredentials)
          --passphrase-file FILE   the passphrase of this machine's backups, on the file's first line (else it is asked
                                   twice, without echo); 16 characters or more; it never leaves this machine
          --name NAME              the machine's name in the vault (default: its host name)
          --state DIR              the state folder (default: $PORTAL_AGENT_STATE, else /var/lib/portal-agent)
          Run it again after a failure past the portal's registration: it finishes the repository step.
        """;

    public static async Task<int> RunAsync(Args a, HttpClient http, CancellationToken ct)
    {
        var folder = StateStore.Resolve(a.Get("--state"));
        var credentialsPath = a.Get("--credentials");
        var passphraseFile = a.Get("--passphrase-file");
        var name = a.Get("--name");
        a.EnsureAllUsed();

        var existing = StateStore.OpenExisting(folder);
        if (existing?.LoadState() is { } registered)
        {
            if (registered.RepositoryId is not null)
                throw new AgentException($"This machine is already registered to vault {registered.VaultName} as {registered.MachineName} (state folder {folder}). " +
                                         "To register it again, run 'portal-agent unregister' first.");
            Console.WriteLine($"Finishing the registration of {registered.MachineName} to vault {registered.VaultName}: its repository step did not complete.");
            var pass = existing.Has(StateStore.RepositoryKeyFile) ? null : Passphrase.ReadNew(passphraseFile);
            await FinishAsync(existing, registered, pass, http, ct);
            return 0;
        }

        if (credentialsPath is null)
            throw new UsageException("missing --credentials FILE (download it from the vault's page in the portal, \"Add a machine\")");
        var credentials = Credentials.Load(credentialsPath, DateTimeOffset.UtcNow);
        var portal = Credentials.PortalAddress(credentials.Portal, $"The portal address in {credentialsPath}");
        var machineName = CheckName(name ?? Environment.MachineName);
        var passphrase = Passphrase.ReadNew(passphraseFile);

        var store = StateStore.OpenOrCreate(folder);
        var (signing, agreement) = MachineIdentity.NewKeys();
        using var identityKeys = new MachineIdentity(Guid.Empty, signing, agreement);
        store.SaveKey(StateStore.SigningKeyFile, signing);
        store.SaveKey(StateStore.AgreementKeyFile, agreement);
        RegisterResponse response;
        try
        {
            response = await new PortalClient(http, portal).RegisterAsync(new RegisterRequest(credentials.CredentialId, credentials.Secret, machineName,
                AgentWorker.OperatingSystemName(), AgentWorker.AgentVersion, Convert.ToBase64String(signing.ExportSubjectPublicKeyInfo()),
                Convert.ToBase64String(agreement.ExportSubjectPublicKeyInfo())), ct);
        }
        catch
        {
            store.DeleteSecrets(); // not registered: the keys are of no use
            throw;
        }

        var state = new AgentState(response.MachineId, response.VaultId, response.VaultName, response.MachineName, portal.ToString(), DateTimeOffset.UtcNow,
            response.EscrowKey);
        store.SaveState(state);
        Console.WriteLine($"Registered this machine as {state.MachineName} in vault {state.VaultName} ({state.Portal}).");
        await FinishAsync(store, state, passphrase, http, ct);
        return 0;
    }

    /// <summary>The repository step: make (or open) the machine's repository, keep its key, escrow it, and record it.</summary>
    private static async Task FinishAsync(StateStore store, AgentState state, string? passphrase, HttpClient http, CancellationToken ct)
    {
        try
        {
            using var identity = new MachineIdentity(state.MachineId, store.LoadSigningKey(), store.LoadAgreementKey());
            var repository = new HttpObjectStore(http, state.PortalUri, identity.Authorization);
            RepositoryKey key;
            string repositoryId;
            if (store.LoadRepositoryKey() is { } saved)
            {
                using var engine = await BackupEngine.OpenWithKeyAsync(repository, saved, cancellationToken: ct);
                (key, repositoryId) = (saved, engine.RepositoryId);
            }
            else
            {
                ArgumentNullException.ThrowIfNull(passphrase);
                Console.WriteLine("Making the machine's repository in the vault (deriving the key from the passphrase takes a few seconds)...");
                using var engine = await InitOrOpenAsync(repository, passphrase, ct);
                (key, repositoryId) = (engine.ExportKey(), engine.RepositoryId);
                store.SaveRepositoryKey(key);
            }

            var escrowed = SealedBox.Seal(Convert.FromBase64String(state.EscrowKey), key.ToBytes(), AgentContexts.RepositoryKey(state.MachineId));
            await new PortalClient(http, state.PortalUri).SendRepositoryKeyAsync(new RepositoryKeyRequest(repositoryId, Convert.ToBase64String(escrowed)),
                identity.Authorization(), ct);
            store.SaveState(state with { RepositoryId = repositoryId });
            Console.WriteLine($"""
                The machine's repository {repositoryId[..Math.Min(8, repositoryId.Length)]} is ready and its key is escrowed to the vault.

                State folder: {store.Folder} (the machine's keys; owner-only: keep it, and back it up nowhere public).
                Keep the passphrase safe: it never leaves this machine. With the vault's storage and the passphrase alone,
                Portal.Cli restores this machine's data, even without the portal.

                Next: start the agent as a service:  systemctl enable --now portal-agent
                      (or in the foreground:         portal-agent run{StateOption(store.Folder)})
                      then protect folders of this machine from the vault's page in the portal.
                """);
        }
        catch (Exception e) when (e is AgentException or PortalUnreachableException or RepositoryException or StoreException or FormatException or
                                      System.Security.Cryptography.CryptographicException)
        {
            var why = e switch
            {
                WrongPassphraseException => "The machine's repository was already made with another passphrase; give that one.",
                FormatException or System.Security.Cryptography.CryptographicException => "The vault's escrow key from the portal cannot be read.",
                _ => e.Message,
            };
            throw new AgentException($"{why} The portal registered this machine ({state.MachineName}, vault {state.VaultName}) but its repository step did not finish. " +
                                     $"Run 'portal-agent register{StateOption(store.Folder)}' again to finish it (no credentials file is needed).", e);
        }
    }

    private static async Task<BackupEngine> InitOrOpenAsync(IObjectStore repository, string passphrase, CancellationToken ct)
    {
        try
        {
            return await BackupEngine.InitAsync(repository, passphrase, cancellationToken: ct);
        }
        catch (RepositoryExistsException)
        {
            // an earlier run made it and stopped before keeping its key
            return await BackupEngine.OpenAsync(repository, passphrase, cancellationToken: ct);
        }
    }

    internal static string StateOption(string folder) => folder == Path.GetFullPath(StateStore.DefaultFolder) ? "" : $" --state {folder}";

    private static string CheckName(string name)
    {
        name = name.Trim();
        if (name.Length is 0 or > 100 || name.Any(char.IsControl))
            throw new UsageException($"the machine name '{name}' is not valid: give 1 to 100 printable characters with --name");
        return name;
    }
}
