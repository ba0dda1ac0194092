using Portal.Engine.Storage;

namespace Portal.Engine.Regions;

/// <summary>
/// Where a vault's repository lives in its region's store: under <c>vaults/{id:N}</c>. A GRS vault has the same
/// prefix in the paired region. Part of the storage format: the portal, the CLI and recovery tools all find vaults here.
/// </summary>
public static class VaultLayout
{
    /// <summary>The vault's prefix in a region's store: <c>vaults/</c> and the id's 32 hex digits.</summary>
    public static string Prefix(Guid vaultId) => $"vaults/{vaultId:N}";

    /// <summary>
    /// A registered machine's own repository in the vault: <c>vaults/{vault:N}/machines/{machine:N}</c>. Inside the vault's
    /// prefix, so replication and scrub of the vault carry it; outside the vault repository's own object names.
    /// </summary>
    public static string MachinePrefix(Guid vaultId, Guid machineId) => $"{Prefix(vaultId)}/machines/{machineId:N}";

    /// <summary>
    /// The ids of the vaults whose repository (its <c>config</c>) lies in <paramref name="regionStore"/>, sorted: what a
    /// region holds when no catalog says so (attaching a vault after the catalog was lost). Lists the whole
    /// <c>vaults/</c> prefix, so it is meant for that rare case.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> FindVaultsAsync(IObjectStore regionStore, CancellationToken cancellationToken = default)
    {
        var ids = new SortedSet<Guid>();
        await foreach (var info in regionStore.ListAsync("vaults/", cancellationToken).ConfigureAwait(false))
        {
            var parts = info.Name.Split('/');
            if (parts.Length == 3 && parts[2] == "config" && Guid.TryParseExact(parts[1], "N", out var id))
                ids.Add(id);
        }

        return [.. ids];
    }

    /// <summary>
    /// The machine repositories (each one's <c>config</c> under <c>vaults/{vault:N}/machines/{machine:N}</c>) in
    /// <paramref name="regionStore"/>, sorted; with <paramref name="vaultId"/>, only that vault's. What a region holds when
    /// no catalog says so: a vault whose items are all on machines has no repository of its own, only these.
    /// </summary>
    public static async Task<IReadOnlyList<(Guid Vault, Guid Machine)>> FindMachineRepositoriesAsync(IObjectStore regionStore, Guid? vaultId = null,
        CancellationToken cancellationToken = default)
    {
        var found = new SortedSet<(Guid, Guid)>();
        var prefix = vaultId is { } v ? $"{Prefix(v)}/machines/" : "vaults/";
        await foreach (var info in regionStore.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            var parts = info.Name.Split('/');
            if (parts.Length == 5 && parts[2] == "machines" && parts[4] == "config"
                && Guid.TryParseExact(parts[1], "N", out var vault) && Guid.TryParseExact(parts[3], "N", out var machine))
                found.Add((vault, machine));
        }

        return [.. found];
    }

    /// <summary>
    /// The machine repositories of vault <paramref name="vaultId"/> other than <paramref name="except"/>, sorted: the
    /// folders under <c>vaults/{vault:N}/machines/</c> are listed (not the objects inside them, by
    /// <see cref="FolderListing.ListFoldersAsync"/>), and each one not excepted counts when it holds a <c>config</c>. Cheap
    /// enough for a page: one listing of a folder and one lookup per machine not excepted.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> FindMachineRepositoriesAsync(IObjectStore regionStore, Guid vaultId, IReadOnlySet<Guid> except,
        CancellationToken cancellationToken = default)
    {
        var prefix = $"{Prefix(vaultId)}/machines/";
        var found = new List<Guid>();
        foreach (var folder in await regionStore.ListFoldersAsync(prefix, cancellationToken).ConfigureAwait(false))
            if (Guid.TryParseExact(folder, "N", out var machine) && !except.Contains(machine)
                && await regionStore.StatAsync($"{prefix}{folder}/config", cancellationToken).ConfigureAwait(false) is not null)
                found.Add(machine);
        return found;
    }

    /// <summary>
    /// The vault's repository inside <paramref name="regionStore"/>; with <paramref name="throttle"/>, its uploads
    /// wait for that bucket's tokens (one bucket shared by the vaults it limits together).
    /// </summary>
    public static IObjectStore Open(IObjectStore regionStore, Guid vaultId, TokenBucket? throttle = null)
    {
        IObjectStore store = new PrefixedStore(regionStore, Prefix(vaultId));
        return throttle is null ? store : new ThrottledStore(store, throttle);
    }
}
