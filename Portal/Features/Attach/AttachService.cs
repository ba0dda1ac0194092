using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Engine;
using Portal.Engine.Regions;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Machines.Access;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Features.Attach;

/// <summary>
/// Attaches an existing vault from its storage after the portal's database was lost (or to move a vault to another
/// portal): with the region and the vault's passphrase, the vault, its policies, items and machines come back from the
/// vault manifest, and every recovery point from the snapshots of the vault's repository and of each machine whose key
/// was escrowed. Backup.Contributor only; audited. A vault already in the catalog, a wrong passphrase and a region with
/// no vault are refused in words, and nothing is saved.
/// </summary>
public sealed class AttachService(
    IDbContextFactory<PortalDbContext> dbFactory,
    ICurrentUser currentUser,
    AuditLog audit,
    RegionCatalog regions,
    RegionStores stores,
    IOptions<StorageOptions> storage,
    VaultKeys keys,
    EscrowKeys escrow,
    ProtectionScheduler scheduler,
    VaultManifestWriter manifests,
    TimeProvider clock)
{
    /// <summary>The regions a vault can be attached from, with where their replicas are.</summary>
    public async Task<IReadOnlyList<AttachRegion>> RegionsAsync()
    {
        await currentUser.RequireAnyRoleAsync("attach vaults", PortalRoles.Contributor);
        return [.. regions.All.Select(r => new AttachRegion(r.Name, r.DisplayName, Locations(r.Name)))];
    }

    /// <summary>What attaching would bring back; nothing is saved.</summary>
    public async Task<AttachPreview> PreviewAsync(AttachVaultRequest request, CancellationToken ct = default)
    {
        await currentUser.RequireAnyRoleAsync("attach vaults", PortalRoles.Contributor);
        using var found = await LocateAsync(request, ct);
        return (await ReadAsync(found, ct)).Preview;
    }

    /// <summary>The plan, with GRS only where the region it is attached in has a pair.</summary>
    private async Task<AttachPlan> ReadAsync(Found found, CancellationToken ct)
    {
        AttachPlan plan;
        if (found.MachineId is { } machineId)
        {
            // A vault known only from a machine's repository: a new escrow key pair, to which the machine's key is sealed again.
            using var pair = System.Security.Cryptography.ECDiffieHellman.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            var publicKey = pair.ExportSubjectPublicKeyInfo();
            var privateKey = pair.ExportPkcs8PrivateKey();
            try
            {
                plan = await AttachPlan.ReadMachineAsync(found.Engine, found.VaultId, machineId, found.Region, null, [], publicKey,
                    escrow.Restored(found.VaultId, publicKey, privateKey, clock.GetUtcNow().UtcDateTime), found.OtherMachines, clock, ct);
            }
            finally
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(privateKey);
            }
        }
        else
            plan = await AttachPlan.ReadAsync(found.Engine, found.VaultId, found.Region, stores, escrow, clock, ct);
        if (found.MachineId is not null && found.VaultRepository)
            plan.Preview = plan.Preview with
            {
                Notes = [.. plan.Preview.Notes, "This vault also has a repository of its own (items on the portal host), which a machine's passphrase does not open: " +
                    "attaching with the vault's passphrase instead brings back every item and machine at once."],
            };
        if (plan.Vault.Redundancy == StorageRedundancy.GRS && regions.Find(found.Region)?.HasPair != true)
        {
            plan.Vault.Redundancy = StorageRedundancy.LRS;
            plan.Preview = plan.Preview with
            {
                Redundancy = StorageRedundancy.LRS,
                Notes = [.. plan.Preview.Notes, $"Region {found.Region} has no pair: the vault is attached with LRS."],
            };
        }

        return plan;
    }

    /// <summary>Attaches the vault: everything <see cref="PreviewAsync"/> shows is saved in one transaction, then the vault's key is sealed here.</summary>
    public Task<AttachPreview> AttachAsync(AttachVaultRequest request, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultAttach, $"region/{request.Region}", async user =>
        {
            Access.Require(user, "attach vaults", PortalRoles.Contributor);
            using var found = await LocateAsync(request, ct);
            var plan = await ReadAsync(found, ct);
            var preview = plan.Preview;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                var normalized = VaultRules.Normalize(plan.Vault.Name);
                if (await db.Vaults.AnyAsync(v => v.NormalizedName == normalized, ct))
                    throw new PortalConflictException(
                        $"Another vault named {plan.Vault.Name} is already in the catalog. Nothing was attached: rename or delete that vault, then attach this one again.");
                plan.Vault.UpdatedBy = user.DisplayName();
                plan.Add(db);
                audit.Append(db, user, AuditActions.VaultAttach, VaultService.VaultResource(plan.Vault.Name),
                    $"from region {found.Region} (vaults/{found.VaultId:N}" + (found.MachineId is { } m ? $", with the passphrase of machine repository machines/{m:N}" : "") +
                    $"): {preview.Items.Count} item(s), {preview.RecoveryPoints} recovery point(s), " +
                    $"{preview.Policies} polic(ies), {preview.Machines} machine(s)" + (preview.Unavailable.Count > 0 ? "; not available: " + string.Join(" ", preview.Unavailable) : ""));
                try
                {
                    await db.SaveChangesAsync(ct);
                }
                catch (DbUpdateException e) when (e.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
                {
                    throw AlreadyAttached(plan.Vault.Name); // attached by someone else meanwhile
                }
            }

            // The key is sealed for unattended backups on this portal's key ring (the old one may be gone with the database).
            // A machine's passphrase is not the vault's: the vault gets its own when a folder on the portal host is protected.
            if (found.MachineId is null)
                await keys.UnlockAsync(plan.Vault, request.Passphrase, user.DisplayName(), ct);
            foreach (var item in plan.Items.Where(i => i.State == ProtectionState.Protected))
                await scheduler.SyncItemAsync(item.Id, ct);
            await manifests.RefreshAsync(plan.Vault.Id, ct);
            return preview;
        });

    /// <summary>The repository the passphrase opened: the vault's own, or (with <paramref name="MachineId"/>) one machine's.</summary>
    private sealed record Found(BackupEngine Engine, Guid VaultId, string Region, Guid? MachineId = null, IReadOnlyList<Guid>? Others = null,
        bool VaultRepository = false) : IDisposable
    {
        public IReadOnlyList<Guid> OtherMachines => Others ?? [];

        public void Dispose() => Engine.Dispose();
    }

    /// <summary>Finds the vault the passphrase opens in the region, refusing one already in the catalog.</summary>
    private async Task<Found> LocateAsync(AttachVaultRequest request, CancellationToken ct)
    {
        var region = regions.Find(request.Region)
            ?? throw new PortalValidationException(nameof(request.Region), string.IsNullOrWhiteSpace(request.Region)
                ? "Choose the region the vault's storage is in."
                : $"Region \"{request.Region}\" is not configured. Choose one of: {string.Join(", ", regions.All.Select(r => r.Name))}.");
        if (string.IsNullOrEmpty(request.Passphrase))
            throw new PortalValidationException(nameof(request.Passphrase), "Type the vault's passphrase: its backup data is encrypted with it.");
        Guid? wanted = null;
        if (!string.IsNullOrWhiteSpace(request.VaultId))
        {
            var text = request.VaultId.Trim();
            text = text.StartsWith("vaults/", StringComparison.OrdinalIgnoreCase) ? text["vaults/".Length..] : text;
            if (!Guid.TryParse(text.TrimEnd('/'), out var id))
                throw new PortalValidationException(nameof(request.VaultId),
                    "A vault's id is the name of its folder in the region's storage, vaults/ followed by 32 hexadecimal digits; leave it empty to search the region.");
            wanted = id;
        }

        IReadOnlyList<Guid> candidates;
        IReadOnlyList<(Guid Vault, Guid Machine)> machines;
        try
        {
            candidates = wanted is { } one
                ? (await stores.Vault(one, region.Name).StatAsync("config", ct) is null ? [] : [one])
                : await VaultLayout.FindVaultsAsync(stores.Region(region.Name), ct);
            machines = await VaultLayout.FindMachineRepositoriesAsync(stores.Region(region.Name), wanted, ct);
        }
        catch (Engine.Storage.StoreException e)
        {
            throw new PortalConflictException($"The storage of region {region.Name} cannot be reached ({e.Message}). Nothing was attached; check its replicas and try again.");
        }

        if (candidates.Count == 0 && machines.Count == 0)
            throw new PortalValidationException(wanted is null ? nameof(request.Region) : nameof(request.VaultId), wanted is { } w
                ? $"Region {region.Name} holds no vault in vaults/{w:N} ({string.Join(", ", Locations(region.Name))}). Check the id and the region."
                : $"Region {region.Name} holds no vault ({string.Join(", ", Locations(region.Name))}): nothing to attach. Check that this is the region the vault was in.");

        var opened = new List<(Guid Id, BackupEngine Engine)>();
        try
        {
            foreach (var id in candidates)
                if (await TryOpenAsync(stores.Vault(id, region.Name), request.Passphrase, ct) is { } engine)
                    opened.Add((id, engine));

            await using var db = await dbFactory.CreateDbContextAsync(ct);
            if (opened.Count == 0)
            {
                // Not a vault's passphrase: perhaps a machine's, of a vault whose items are all on machines (it has no repository of its own).
                var vaultIds = machines.Select(m => m.Vault).Distinct().ToList();
                var knownVaults = await db.Vaults.AsNoTracking().Where(v => vaultIds.Contains(v.Id)).Select(v => new { v.Id, v.Name }).ToListAsync(ct);
                foreach (var (vaultId, machineId) in machines)
                {
                    if (await TryOpenAsync(stores.Machine(vaultId, region.Name, machineId), request.Passphrase, ct) is not { } engine)
                        continue;
                    if (knownVaults.FirstOrDefault(k => k.Id == vaultId) is { } known)
                    {
                        engine.Dispose();
                        throw new PortalConflictException(
                            $"That passphrase opens a machine repository of vault {known.Name}, which is already in the catalog. Nothing was changed; " +
                            "to bring this machine back, open the vault and use Machines, Attach another machine.");
                    }

                    return new Found(engine, vaultId, region.Name, machineId, [.. machines.Where(m => m.Vault == vaultId && m.Machine != machineId).Select(m => m.Machine)],
                        candidates.Contains(vaultId));
                }

                throw new PortalValidationException(nameof(request.Passphrase), candidates.Count == 1 && machines.Count == 0
                    ? $"That is not the passphrase of the vault in vaults/{candidates[0]:N} of region {region.Name}. Nothing was attached; type the passphrase its data was encrypted with."
                    : machines.Count == 0
                        ? $"That passphrase opens none of the {candidates.Count} vaults in region {region.Name}. Nothing was attached; type the passphrase the vault's data was encrypted with."
                        : $"That passphrase opens none of the {candidates.Count} vault(s) and {machines.Count} machine repositor{(machines.Count == 1 ? "y" : "ies")} in region {region.Name}. " +
                          "Nothing was attached; type the passphrase the vault's data was encrypted with, or, for a vault whose items are all on machines, one of its machines' passphrases.");
            }

            var ids = opened.Select(o => o.Id).ToList();
            var knownIds = await db.Vaults.AsNoTracking().Where(v => ids.Contains(v.Id)).Select(v => new { v.Id, v.Name }).ToListAsync(ct);
            var fresh = opened.Where(o => knownIds.All(k => k.Id != o.Id)).ToList();
            if (fresh.Count == 0)
                throw AlreadyAttached(knownIds[0].Name);
            if (fresh.Count > 1)
                throw new PortalValidationException(nameof(request.VaultId),
                    $"That passphrase opens {fresh.Count} vaults in region {region.Name}: {string.Join(", ", fresh.Select(f => $"vaults/{f.Id:N}"))}. Give the id of the one to attach.");
            var chosen = fresh[0];
            opened.Remove(chosen);
            return new Found(chosen.Engine, chosen.Id, region.Name);
        }
        finally
        {
            foreach (var (_, engine) in opened)
                engine.Dispose();
        }
    }

    /// <summary>The repository in <paramref name="store"/> opened with <paramref name="passphrase"/>, or null when it is not its passphrase.</summary>
    private async Task<BackupEngine?> TryOpenAsync(Engine.Storage.IObjectStore store, string passphrase, CancellationToken ct)
    {
        try
        {
            return await BackupEngine.OpenAsync(store, passphrase, new EngineOptions { Time = clock }, cancellationToken: ct);
        }
        catch (Exception e) when (e is WrongPassphraseException or NoUsableKeyException or RepositoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// How many machine repositories the vault's storage holds that the catalog does not know (after the catalog was lost:
    /// machines to bring back with "Attach another machine"); 0 for anyone but a Backup.Contributor, and when the storage
    /// cannot be reached (the page then offers nothing rather than an error). Cheap: the vault's <c>machines/</c> folders are
    /// listed, not their objects.
    /// </summary>
    public async Task<int> MachinesWaitingAsync(Guid vaultId, CancellationToken ct = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        if (user.Identity?.IsAuthenticated != true || !user.IsInRole(PortalRoles.Contributor))
            return 0;
        try
        {
            return (await WaitingAsync(vaultId, ct)).Waiting.Count;
        }
        catch (PortalException)
        {
            return 0;
        }
    }

    /// <summary>What attaching the machine whose passphrase this is would bring back (machine, items, points, newest point); nothing is saved.</summary>
    public async Task<AttachPreview> PreviewMachineAsync(Guid vaultId, string passphrase, CancellationToken ct = default)
    {
        await currentUser.RequireAnyRoleAsync("attach machines", PortalRoles.Contributor);
        return (await ReadMachineAsync(vaultId, passphrase, preview: true, ct)).Plan.Preview;
    }

    /// <summary>
    /// Attaches one more machine of a vault already in the catalog ("Attach another machine"): with that machine's passphrase,
    /// its repository under the vault's <c>machines/</c> is found among those not in the catalog yet, and the machine, its
    /// items (and any policy they use that is not here) and its points come back. Backup.Contributor only; audited.
    /// </summary>
    public Task<AttachPreview> AttachMachineAsync(Guid vaultId, string passphrase, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultAttach, $"vault/{vaultId:N}", async user =>
        {
            Access.Require(user, "attach machines", PortalRoles.Contributor);
            var (vault, machineId, plan) = await ReadMachineAsync(vaultId, passphrase, preview: false, ct);
            var preview = plan.Preview;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                var name = plan.Machines[0].NormalizedName;
                if (await db.Machines.AnyAsync(m => m.VaultId == vaultId && m.RevokedAt == null && m.NormalizedName == name, ct))
                    throw new PortalConflictException(
                        $"Vault {vault.Name} already has a machine named {plan.Machines[0].Name}. Nothing was attached: revoke that machine first, then attach this one again.");
                plan.Add(db);
                audit.Append(db, user, AuditActions.VaultAttach, VaultService.VaultResource(vault.Name),
                    $"machine {plan.Machines[0].Name} (machines/{machineId:N}) with its passphrase: {preview.Items.Count} item(s), {preview.RecoveryPoints} recovery point(s)");
                try
                {
                    await db.SaveChangesAsync(ct);
                }
                catch (DbUpdateException e) when (e.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
                {
                    throw new PortalConflictException($"Machine {plan.Machines[0].Name} was attached by someone else meanwhile. Nothing was changed.");
                }
            }

            foreach (var item in plan.Items.Where(i => i.State == ProtectionState.Protected))
                await scheduler.SyncItemAsync(item.Id, ct);
            await manifests.RefreshAsync(vaultId, ct);
            return preview;
        });

    /// <summary>The vault, and its machine repositories in storage that the catalog does not know.</summary>
    private async Task<(Vault Vault, IReadOnlyList<Guid> Waiting, bool Any)> WaitingAsync(Guid vaultId, CancellationToken ct)
    {
        Vault vault;
        HashSet<Guid> attached;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct)
                ?? throw new PortalNotFoundException("This vault is not in the catalog: attach the vault first.");
            attached = [.. await db.Machines.AsNoTracking().Where(m => m.VaultId == vaultId).Select(m => m.Id).ToListAsync(ct)];
        }

        try
        {
            var region = stores.Region(vault.Region);
            var waiting = await VaultLayout.FindMachineRepositoriesAsync(region, vaultId, attached, ct);
            var any = waiting.Count > 0 || (attached.Count > 0 && (await VaultLayout.FindMachineRepositoriesAsync(region, vaultId, new HashSet<Guid>(), ct)).Count > 0);
            return (vault, waiting, any);
        }
        catch (Engine.Storage.StoreException e)
        {
            throw new PortalConflictException($"The storage of region {vault.Region} cannot be reached ({e.Message}). Nothing was attached; check its replicas and try again.");
        }
    }

    /// <summary>The plan of the machine repository (not in the catalog yet) that <paramref name="passphrase"/> opens, refused in words when none does.</summary>
    /// <param name="preview">Only to show it: the machine's key is sealed to a throwaway key, so that the vault gets no escrow key pair yet.</param>
    private async Task<(Vault Vault, Guid MachineId, AttachPlan Plan)> ReadMachineAsync(Guid vaultId, string passphrase, bool preview, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(passphrase))
            throw new PortalValidationException("Passphrase", "Type the machine's passphrase: its backup data is encrypted with it.");
        var (vault, waiting, any) = await WaitingAsync(vaultId, ct);
        if (waiting.Count == 0)
            throw new PortalValidationException("Passphrase", !any
                ? $"Vault {vault.Name}'s storage holds no machine repository: there is no machine to attach."
                : $"Every machine repository in vault {vault.Name}'s storage is already in the catalog: there is no machine left to attach.");
        List<BackupPolicy> policies;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            policies = await db.BackupPolicies.AsNoTracking().Where(p => p.VaultId == vaultId).ToListAsync(ct);
        foreach (var machineId in waiting)
        {
            using var engine = await TryOpenAsync(stores.Machine(vaultId, vault.Region, machineId, vault.Name), passphrase, ct);
            if (engine is null)
                continue;
            byte[] escrowKey;
            if (preview)
            {
                using var throwaway = System.Security.Cryptography.ECDiffieHellman.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
                escrowKey = throwaway.ExportSubjectPublicKeyInfo();
            }
            else
                escrowKey = await escrow.PublicKeyAsync(vaultId, ct);
            var plan = await AttachPlan.ReadMachineAsync(engine, vaultId, machineId, vault.Region, vault, policies, escrowKey, null,
                [.. waiting.Where(w => w != machineId)], clock, ct);
            return (vault, machineId, plan);
        }

        throw new PortalValidationException("Passphrase",
            $"That passphrase opens none of the {waiting.Count} machine repositor{(waiting.Count == 1 ? "y" : "ies")} of vault {vault.Name} not yet in the catalog. " +
            "Nothing was attached; type the passphrase that machine's agent was registered with.");
    }

    private static PortalConflictException AlreadyAttached(string name) =>
        new($"Vault {name} is already in the catalog: it was created or attached here before. Nothing was changed; open it from the Vaults page.");

    private IReadOnlyList<string> Locations(string region) =>
        storage.Value.Regions.FirstOrDefault(r => string.Equals(r.Name, region, StringComparison.OrdinalIgnoreCase))?.Replicas
            .Select(r => r.Kind == ReplicaKinds.AzureBlob ? $"container {r.Container}" : $"folder {Path.GetFullPath(r.Path ?? "", Path.GetFullPath(storage.Value.Root))}")
            .ToList() ?? [];
}
