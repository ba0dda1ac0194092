using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Engine;
using Portal.Engine.Regions;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Machines.Access;
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
        var plan = await AttachPlan.ReadAsync(found.Engine, found.VaultId, found.Region, stores, escrow, clock, ct);
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
                    $"from region {found.Region} (vaults/{found.VaultId:N}): {preview.Items.Count} item(s), {preview.RecoveryPoints} recovery point(s), " +
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
            await keys.UnlockAsync(plan.Vault, request.Passphrase, user.DisplayName(), ct);
            foreach (var item in plan.Items.Where(i => i.State == ProtectionState.Protected))
                await scheduler.SyncItemAsync(item.Id, ct);
            await manifests.RefreshAsync(plan.Vault.Id, ct);
            return preview;
        });

    private sealed record Found(BackupEngine Engine, Guid VaultId, string Region) : IDisposable
    {
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
        try
        {
            candidates = wanted is { } one
                ? (await stores.Vault(one, region.Name).StatAsync("config", ct) is null ? [] : [one])
                : await VaultLayout.FindVaultsAsync(stores.Region(region.Name), ct);
        }
        catch (Engine.Storage.StoreException e)
        {
            throw new PortalConflictException($"The storage of region {region.Name} cannot be reached ({e.Message}). Nothing was attached; check its replicas and try again.");
        }

        if (candidates.Count == 0)
            throw new PortalValidationException(wanted is null ? nameof(request.Region) : nameof(request.VaultId), wanted is { } w
                ? $"Region {region.Name} holds no vault in vaults/{w:N} ({string.Join(", ", Locations(region.Name))}). Check the id and the region."
                : $"Region {region.Name} holds no vault ({string.Join(", ", Locations(region.Name))}): nothing to attach. Check that this is the region the vault was in.");

        var opened = new List<(Guid Id, BackupEngine Engine)>();
        try
        {
            var options = new EngineOptions { Time = clock };
            foreach (var id in candidates)
            {
                try
                {
                    opened.Add((id, await BackupEngine.OpenAsync(stores.Vault(id, region.Name), request.Passphrase, options, cancellationToken: ct)));
                }
                catch (Exception e) when (e is WrongPassphraseException or NoUsableKeyException or RepositoryNotFoundException)
                {
                    // not this vault's passphrase
                }
            }

            if (opened.Count == 0)
                throw new PortalValidationException(nameof(request.Passphrase), candidates.Count == 1
                    ? $"That is not the passphrase of the vault in vaults/{candidates[0]:N} of region {region.Name}. Nothing was attached; type the passphrase its data was encrypted with."
                    : $"That passphrase opens none of the {candidates.Count} vaults in region {region.Name}. Nothing was attached; type the passphrase the vault's data was encrypted with.");

            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var ids = opened.Select(o => o.Id).ToList();
            var known = await db.Vaults.AsNoTracking().Where(v => ids.Contains(v.Id)).Select(v => new { v.Id, v.Name }).ToListAsync(ct);
            var fresh = opened.Where(o => known.All(k => k.Id != o.Id)).ToList();
            if (fresh.Count == 0)
                throw AlreadyAttached(known[0].Name);
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

    private static PortalConflictException AlreadyAttached(string name) =>
        new($"Vault {name} is already in the catalog: it was created or attached here before. Nothing was changed; open it from the Vaults page.");

    private IReadOnlyList<string> Locations(string region) =>
        storage.Value.Regions.FirstOrDefault(r => string.Equals(r.Name, region, StringComparison.OrdinalIgnoreCase))?.Replicas
            .Select(r => r.Kind == ReplicaKinds.AzureBlob ? $"container {r.Container}" : $"folder {Path.GetFullPath(r.Path ?? "", Path.GetFullPath(storage.Value.Root))}")
            .ToList() ?? [];
}
