using Portal.Agent.Connection;
using Portal.Agent.State;

namespace Portal.Agent.Commands;

/// <summary><c>status</c>: what this machine is registered as, and whether the portal accepts it now.</summary>
internal static class StatusCommand
{
    public const string Help = """
        portal-agent status [--state DIR]
          Shows the machine, its vault, the portal, the state folder, and whether the portal accepts the machine now
          (exit code 0), or refuses it (revoked: the portal's reason), cannot be reached, or the registration is not
          finished (exit code 1).
        """;

    public static async Task<int> RunAsync(Args a, HttpClient http, CancellationToken ct)
    {
        var folder = StateStore.Resolve(a.Get("--state"));
        a.EnsureAllUsed();
        var (store, state) = StateStore.OpenRegistered(folder);
        Console.WriteLine($"Machine:      {state.MachineName} ({state.MachineId})");
        Console.WriteLine($"Vault:        {state.VaultName} ({state.VaultId})");
        Console.WriteLine($"Portal:       {state.Portal}");
        Console.WriteLine($"State folder: {store.Folder}");
        Console.WriteLine($"Registered:   {state.RegisteredAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"Repository:   {state.RepositoryId ?? "not made yet"} (in the vault's storage: {Portal.Engine.Regions.VaultLayout.MachinePrefix(state.VaultId, state.MachineId)})");
        using var identity = new MachineIdentity(state.MachineId, store.LoadSigningKey(), store.LoadAgreementKey());
        string? refusal;
        try
        {
            refusal = await new PortalClient(http, state.PortalUri).RefusalAsync(identity.Authorization(), ct);
        }
        catch (Exception e) when (e is PortalUnreachableException or AgentException)
        {
            Console.WriteLine($"Connection:   unknown. {e.Message}");
            return 1;
        }

        if (refusal is not null)
        {
            Console.WriteLine($"Connection:   the portal refuses this machine: {refusal}");
            Console.WriteLine("              If it was revoked, run 'portal-agent unregister --local-only' and register it again with new credentials.");
            return 1;
        }

        Console.WriteLine("Connection:   the portal accepts this machine.");
        if (state.RepositoryId is null)
        {
            Console.WriteLine($"The registration did not finish: run 'portal-agent register{RegisterCommand.StateOption(store.Folder)}' again to make the repository.");
            return 1;
        }

        return 0;
    }
}
