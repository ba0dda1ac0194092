using Portal.Agent.Connection;
using Portal.Agent.State;

namespace Portal.Agent.Commands;

/// <summary><c>unregister</c>: the portal revokes the machine (its backups stay in the vault), then its keys are deleted here.</summary>
internal static class UnregisterCommand
{
    public const string Help = """
        portal-agent unregister [--state DIR] [--yes] [--local-only]
          Asks the portal to revoke this machine (its backups stay in the vault: restore them from the portal, or with
          Portal.Cli and the passphrase), then deletes the machine's keys and registration from the state folder.
          --yes          do not ask for confirmation
          --local-only   do not call the portal (it cannot be reached, or already revoked the machine); revoke the
                         machine on the vault's page in the portal yourself
        """;

    public static async Task<int> RunAsync(Args a, HttpClient http, CancellationToken ct)
    {
        var folder = StateStore.Resolve(a.Get("--state"));
        var yes = a.Flag("--yes");
        var localOnly = a.Flag("--local-only");
        a.EnsureAllUsed();
        var (store, state) = StateStore.OpenRegistered(folder);
        if (!yes)
        {
            if (Console.IsInputRedirected)
                throw new UsageException("unregister asks for confirmation: add --yes to run it without a terminal");
            Console.Write($"Unregister {state.MachineName} from vault {state.VaultName}{(localOnly ? "" : " (the portal revokes it)")} and delete its keys from {store.Folder}? " +
                          "Its backups stay in the vault. [y/N] ");
            if (Console.ReadLine()?.Trim().ToUpperInvariant() is not ("Y" or "YES"))
            {
                Console.WriteLine("Nothing was changed.");
                return 1;
            }
        }

        if (!localOnly)
        {
            using var identity = new MachineIdentity(state.MachineId, store.LoadSigningKey(), store.LoadAgreementKey());
            try
            {
                await new PortalClient(http, state.PortalUri).UnregisterAsync(identity.Authorization(), ct);
            }
            catch (PortalUnreachableException e)
            {
                throw new AgentException($"{e.Message} Nothing was changed. To delete this machine's keys anyway, run 'portal-agent unregister --local-only', " +
                                         "then revoke the machine on the vault's page in the portal.", e);
            }

            Console.WriteLine($"The portal revoked {state.MachineName}; its backups stay in vault {state.VaultName}.");
        }

        var deleted = store.DeleteSecrets();
        Console.WriteLine($"Deleted {string.Join(", ", deleted)} from {store.Folder}. Stop the service if it runs: systemctl disable --now portal-agent");
        if (localOnly)
            Console.WriteLine($"Revoke {state.MachineName} on the vault's page in the portal if it is not revoked yet.");
        return 0;
    }
}
