using System.Globalization;
using System.Security.Cryptography;
using Portal.Data;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Machines;
using Portal.Features.Machines.Access;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Features.Attach;

/// <summary>
/// The catalog rows of one vault, read from its storage alone: the vault manifest (settings, policies, items, machines)
/// and the snapshots of the vault's repository and of each machine's repository the escrowed keys open. Points whose item
/// is not in the manifest come back as items of the <see cref="BackupItemKinds.Recovered"/> kind, named by their tags.
/// </summary>
internal sealed class AttachPlan
{
    public required Vault Vault { get; init; }

    /// <summary>False when the plan adds a machine to a vault already in the catalog (the vault row stays as it is).</summary>
    public bool NewVault { get; init; } = true;
    public List<BackupPolicy> Policies { get; } = [];
    public List<BackupItem> Items { get; } = [];
    public List<RecoveryPoint> Points { get; } = [];
    public List<Machine> Machines { get; } = [];
    public VaultEscrowKey? Escrow { get; set; }
    public required AttachPreview Preview { get; set; }

    public void Add(PortalDbContext db)
    {
        if (NewVault)
            db.Vaults.Add(Vault);
        db.BackupPolicies.AddRange(Policies);
        db.Machines.AddRange(Machines);
        if (Escrow is not null)
            db.VaultEscrowKeys.Add(Escrow);
        db.BackupItems.AddRange(Items);
        db.RecoveryPoints.AddRange(Points);
    }

    public static async Task<AttachPlan> ReadAsync(BackupEngine engine, Guid vaultId, string region, RegionStores stores, EscrowKeys escrowKeys,
        TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var stored = await engine.ReadVaultManifestAsync(ct);
        var document = stored is null ? null : VaultManifestDocument.TryParse(stored.Document);
        var unavailable = new List<string>();
        var notes = new List<string>();
        if (stored is not null && document is null)
            unavailable.Add("The vault manifest was written by a newer portal or is damaged: the vault's settings, policies and item definitions cannot be read; its points come back as recovered items.");
        else if (stored is null)
            notes.Add("This vault has no vault manifest (its data predates it): its points come back as recovered items, and the vault takes default settings.");

        var vault = VaultFrom(document?.Vault, vaultId, region, now, notes);
        var plan = new AttachPlan { Vault = vault, Preview = null! };
        foreach (var p in document?.Policies ?? [])
            plan.Policies.Add(Policy(p, vaultId, now));
        var policyIds = plan.Policies.Select(p => p.Id).ToHashSet();
        foreach (var i in document?.Items ?? [])
            plan.Items.Add(Item(i, vaultId, policyIds, now, notes));

        // Machines: their records come back with their public keys (their agents connect again); their points need the escrowed key.
        ECDiffieHellman? escrowPrivate = null;
        if (document?.Escrow is { } e)
        {
            escrowPrivate = ECDiffieHellman.Create();
            escrowPrivate.ImportPkcs8PrivateKey(e.PrivateKey, out _);
            plan.Escrow = escrowKeys.Restored(vaultId, e.PublicKey, e.PrivateKey, now);
        }

        var repositories = new List<(string Where, Guid? Machine, BackupEngine Engine, bool Own)> { ("the vault's repository", null, engine, false) };
        try
        {
            foreach (var mm in document?.Machines ?? [])
            {
                plan.Machines.Add(MachineFrom(mm, vaultId));
                if (await OpenMachineAsync(mm, escrowPrivate, vaultId, region, stores, clock, ct) is var (machineEngine, problem) && machineEngine is not null)
                    repositories.Add(($"machine {mm.Name}'s repository", mm.Id, machineEngine, true));
                else if (problem is not null)
                    unavailable.Add(problem);
            }

            var byId = plan.Items.ToDictionary(i => i.Id);
            var recovered = new Dictionary<Guid, BackupItem>();
            foreach (var (_, machine, repository, _) in repositories)
                await plan.AddPointsAsync(repository, machine, byId, recovered, vaultId, now, ct);

            foreach (var item in recovered.Values)
            {
                if (plan.Items.Any(i => i.Name == item.Name))
                    item.Name = $"{item.Name} (recovered {item.Id.ToString("N")[..8]})";
                plan.Items.Add(item);
            }

            // A machine repository the manifest does not name has no key here: say so rather than pass over it.
            var named = (document?.Machines ?? []).Select(x => x.Id).ToHashSet();
            await foreach (var o in stores.Vault(vaultId, region).ListAsync("machines/", ct))
            {
                var parts = o.Name.Split('/');
                if (parts.Length == 3 && parts[2] == "config" && Guid.TryParseExact(parts[1], "N", out var unknown) && !named.Contains(unknown))
                    unavailable.Add($"A machine's repository (machines/{unknown:N}) is not named in the vault manifest, so the vault holds no key for it: its backups can be read only on that machine.");
            }
        }
        finally
        {
            escrowPrivate?.Dispose();
            foreach (var r in repositories.Where(r => r.Own))
                r.Engine.Dispose();
        }

        plan.Finish(stored?.Written, unavailable, notes, plan.Policies);
        return plan;
    }

    private static BackupItem Item(ManifestItem i, Guid vaultId, IReadOnlySet<Guid> policyIds, DateTime now, List<string> notes)
    {
        var item = new BackupItem
        {
            Id = i.Id, VaultId = vaultId, Name = i.Name, Kind = i.Kind, State = i.State,
            PolicyId = i.PolicyId is { } pid && policyIds.Contains(pid) ? pid : null, MachineId = i.MachineId, SourcePath = i.SourcePath,
            Include = [.. i.Include], Exclude = [.. i.Exclude], PreScript = i.PreScript, PostScript = i.PostScript, ScriptTimeoutSeconds = i.ScriptTimeoutSeconds,
            DatabaseHost = i.DatabaseHost, DatabasePort = i.DatabasePort, DatabaseName = i.DatabaseName, DatabaseUser = i.DatabaseUser,
            DrillCheckQuery = i.DrillCheckQuery,
            CreatedAt = i.CreatedAt, CreatedBy = i.CreatedBy, ProtectionStoppedAt = i.ProtectionStoppedAt, SoftDeletedAt = i.SoftDeletedAt,
        };
        if (item.State == ProtectionState.Protected && item.PolicyId is null)
            (item.State, item.ProtectionStoppedAt) = (ProtectionState.ProtectionStopped, now); // a protected item needs its policy
        if (i.HadDatabasePassword)
            notes.Add($"Item {i.Name}: its database password is not kept in the vault's storage; type it again in the item's Database settings before its next backup.");
        return item;
    }

    private static Vault VaultFrom(ManifestVault? m, Guid vaultId, string region, DateTime now, List<string> notes)
    {
        var vault = new Vault
        {
            Id = vaultId, Name = m?.Name ?? $"recovered-{vaultId.ToString("N")[..8]}", Region = region,
            Redundancy = m?.Redundancy ?? StorageRedundancy.LRS, SoftDeleteEnabled = m?.SoftDeleteEnabled ?? true,
            SoftDeleteRetentionDays = m?.SoftDeleteRetentionDays ?? VaultRules.DefaultSoftDeleteDays, Immutability = m?.Immutability ?? VaultImmutability.Disabled,
            CreatedAt = m?.CreatedAt ?? now, CreatedBy = m?.CreatedBy ?? "attached", UpdatedAt = now,
        };
        vault.NormalizedName = VaultRules.Normalize(vault.Name);
        if (m is not null && !string.Equals(m.Region, region, StringComparison.OrdinalIgnoreCase))
            notes.Add($"The vault was in region {m.Region}; attached from {region}, it lives in {region} from now on.");
        return vault;
    }

    private static BackupPolicy Policy(ManifestPolicy p, Guid vaultId, DateTime now) => new()
    {
        Id = p.Id, VaultId = vaultId, Name = p.Name, NormalizedName = p.Name.ToUpperInvariant(), Definition = p.Definition,
        CreatedAt = p.CreatedAt, CreatedBy = p.CreatedBy, UpdatedAt = now, UpdatedBy = "attached",
    };

    private static Machine MachineFrom(ManifestMachine mm, Guid vaultId) => new()
    {
        Id = mm.Id, VaultId = vaultId, Name = mm.Name, NormalizedName = mm.Name.ToUpperInvariant(), OperatingSystem = mm.OperatingSystem,
        AgentVersion = mm.AgentVersion, SigningKey = mm.SigningKey, AgreementKey = mm.AgreementKey, RepositoryId = mm.RepositoryId,
        EscrowedRepositoryKey = mm.EscrowedRepositoryKey, CredentialId = mm.CredentialId, RegisteredBy = mm.RegisteredBy,
        RegisteredAt = mm.RegisteredAt, RevokedAt = mm.RevokedAt, RevokedBy = mm.RevokedBy,
    };

    /// <summary>Every snapshot of <paramref name="repository"/> as a point of its item (one of <paramref name="byId"/>, or a recovered item added to the plan).</summary>
    private async Task AddPointsAsync(BackupEngine repository, Guid? machine, Dictionary<Guid, BackupItem> byId, Dictionary<Guid, BackupItem> recovered,
        Guid vaultId, DateTime now, CancellationToken ct)
    {
        foreach (var s in await repository.ListSnapshotsAsync(cancellationToken: ct))
        {
            var itemId = ItemTags.ItemId(s.Tags);
            if (itemId is not { } id || !byId.TryGetValue(id, out var item))
            {
                id = itemId ?? Guid.CreateVersion7();
                if (!recovered.TryGetValue(id, out item))
                    recovered[id] = item = Recovered(id, s, machine, vaultId, now);
            }

            Points.Add(Point(item, s));
        }
    }

    private void Finish(DateTimeOffset? manifestWritten, IReadOnlyList<string> unavailable, IReadOnlyList<string> notes, IEnumerable<BackupPolicy> allPolicies)
    {
        foreach (var item in Items)
        {
            var newest = Points.Where(p => p.ItemId == item.Id).Select(p => (DateTime?)p.CreatedAt).Max();
            (item.LatestRecoveryPointAt, item.LastBackupAt) = (newest, newest);
        }

        var policyNames = allPolicies.ToDictionary(p => p.Id, p => p.Name);
        var machineNames = Machines.ToDictionary(x => x.Id, x => x.Name);
        Preview = new AttachPreview(Vault.Id, Vault.Name, Vault.Region, Vault.Redundancy, manifestWritten, Policies.Count,
            [.. Items.OrderBy(i => i.Name, StringComparer.OrdinalIgnoreCase).Select(i => new AttachItemPreview(i.Name, BackupItemKinds.Display(i.Kind), i.SourcePath,
                i.MachineId is { } mid ? machineNames.GetValueOrDefault(mid, mid.ToString("N")[..8]) : null,
                i.PolicyId is { } pid ? policyNames.GetValueOrDefault(pid) : null,
                Points.Count(p => p.ItemId == i.Id), i.Kind == BackupItemKinds.Recovered, i.LatestRecoveryPointAt))],
            Machines.Count, unavailable, notes)
        {
            MachineNames = [.. Machines.Select(m => m.Name).Order(StringComparer.OrdinalIgnoreCase)],
        };
    }

    /// <summary>
    /// The catalog rows one machine's repository brings back, opened with that machine's passphrase (<paramref name="engine"/>):
    /// the machine's share of the vault manifest (the vault, its policies, the machine and its items) and the machine's points.
    /// With <paramref name="existing"/> (attaching another machine of a vault already in the catalog) the vault and the policies
    /// already there are kept. The machine's repository key is sealed again to the vault's escrow key (<paramref name="escrowPublicKey"/>,
    /// or a new pair when <paramref name="newEscrow"/> is given), so the portal runs retention, browsing and restores at once.
    /// </summary>
    /// <exception cref="PortalValidationException">The repository holds no manifest naming this machine (data from before machine manifests).</exception>
    public static async Task<AttachPlan> ReadMachineAsync(BackupEngine engine, Guid vaultId, Guid machineId, string region, Vault? existing,
        IReadOnlyCollection<BackupPolicy> existingPolicies, byte[] escrowPublicKey, VaultEscrowKey? newEscrow, IReadOnlyList<Guid> otherMachines,
        TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var stored = await engine.ReadVaultManifestAsync(ct);
        var document = stored is null ? null : VaultManifestDocument.TryParse(stored.Document);
        if (document?.Machines.FirstOrDefault(m => m.Id == machineId) is not { } manifestMachine)
            throw new PortalValidationException("Passphrase", stored is not null && document is null
                ? $"The passphrase opens machine repository machines/{machineId:N}, but its vault manifest was written by a newer portal or is damaged. Nothing was attached."
                : $"The passphrase opens machine repository machines/{machineId:N}, but it holds no vault manifest naming the machine (its data predates them). " +
                  "Nothing was attached; its backups can still be restored with portal-cli and this passphrase.");
        if (engine.RepositoryId != manifestMachine.RepositoryId && manifestMachine.RepositoryId is not null)
            throw new PortalValidationException("Passphrase",
                $"Machine repository machines/{machineId:N} is repository {engine.RepositoryId}, not {manifestMachine.RepositoryId} as its manifest says. Nothing was attached.");

        var unavailable = new List<string>();
        var notes = new List<string>();
        var vault = existing ?? VaultFrom(document.Vault, vaultId, region, now, notes);
        var plan = new AttachPlan { Vault = vault, NewVault = existing is null, Preview = null!, Escrow = newEscrow };
        var known = existingPolicies.Select(p => p.Id).ToHashSet();
        foreach (var p in document.Policies.Where(p => !known.Contains(p.Id)))
            plan.Policies.Add(Policy(p, vaultId, now));
        var policyIds = known.Concat(plan.Policies.Select(p => p.Id)).ToHashSet();
        foreach (var i in document.Items.Where(i => i.MachineId == machineId))
            plan.Items.Add(Item(i, vaultId, policyIds, now, notes));

        var machine = MachineFrom(manifestMachine, vaultId);
        var key = engine.ExportKey().ToBytes();
        try
        {
            (machine.RepositoryId, machine.EscrowedRepositoryKey) = (engine.RepositoryId, SealedBox.Seal(escrowPublicKey, key, AgentContexts.RepositoryKey(machineId)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        plan.Machines.Add(machine);
        if (machine.RevokedAt is null)
            notes.Add($"Machine {machine.Name} comes back registered, with its keys: its agent needs no new credentials. It reconnects by itself within about a minute " +
                      "(it keeps trying), or at once when its agent is restarted (systemctl restart portal-agent). If this portal is now reached at another address " +
                      "than the one the agent registered with, register the machine again with a new credentials file.");
        if (otherMachines.Count > 0)
            notes.Add($"{otherMachines.Count} other machine repositor{(otherMachines.Count == 1 ? "y" : "ies")} of this vault stay in storage until attached, each with its own " +
                      "machine's passphrase: on the vault's page, Machines, Attach another machine.");

        var byId = plan.Items.ToDictionary(i => i.Id);
        var recovered = new Dictionary<Guid, BackupItem>();
        await plan.AddPointsAsync(engine, machineId, byId, recovered, vaultId, now, ct);
        foreach (var item in recovered.Values)
            plan.Items.Add(item);
        plan.Finish(stored?.Written, unavailable, notes, existingPolicies.Concat(plan.Policies));
        return plan;
    }

    private static async Task<(BackupEngine? Engine, string? Problem)> OpenMachineAsync(ManifestMachine machine, ECDiffieHellman? escrow, Guid vaultId, string region,
        RegionStores stores, TimeProvider clock, CancellationToken ct)
    {
        if (machine.EscrowedRepositoryKey is not { } box || machine.RepositoryId is null)
            return (null, $"Machine {machine.Name} never escrowed its repository key to the vault: its record comes back, but its backups can be read only on the machine itself.");
        if (escrow is null)
            return (null, $"Machine {machine.Name}: the vault manifest holds no escrow key, so its backups cannot be opened here.");
        byte[] key;
        try
        {
            key = SealedBox.Open(escrow, box, AgentContexts.RepositoryKey(machine.Id));
        }
        catch (CryptographicException)
        {
            return (null, $"Machine {machine.Name}: its escrowed key does not open with the vault's escrow key, so its backups cannot be opened here.");
        }

        try
        {
            var engine = await BackupEngine.OpenWithKeyAsync(stores.Machine(vaultId, region, machine.Id), new RepositoryKey(key), new EngineOptions { Time = clock },
                cancellationToken: ct);
            return (engine, null);
        }
        catch (Exception e) when (e is RepositoryNotFoundException or RepositoryKeyMismatchException)
        {
            return (null, $"Machine {machine.Name}'s repository is missing from the vault's storage or does not open with its escrowed key: its backups cannot come back.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>An item no longer in the manifest (or from before manifests), as its snapshot's tags describe it; protection stopped.</summary>
    private static BackupItem Recovered(Guid id, SnapshotInfo s, Guid? machine, Guid vaultId, DateTime now) => new()
    {
        Id = id, VaultId = vaultId, Kind = BackupItemKinds.Recovered, State = ProtectionState.ProtectionStopped, ProtectionStoppedAt = now,
        Name = Trim(ItemTags.Value(s.Tags, ItemTags.Name) ?? $"recovered-{id.ToString("N")[..8]}"),
        SourcePath = ItemTags.Value(s.Tags, ItemTags.Source) ?? s.Paths.FirstOrDefault() ?? "",
        MachineId = machine, CreatedAt = s.Time.UtcDateTime, CreatedBy = "attached",
    };

    private static string Trim(string name) => name.Length > 100 ? name[..100] : name;

    private static RecoveryPoint Point(BackupItem item, SnapshotInfo s)
    {
        DateTime? retainUntil = ItemTags.Value(s.Tags, ItemTags.RetainUntil) is { } r
            && DateTime.TryParse(r, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var until) ? until : null;
        var consistency = Enum.TryParse<RecoveryPointConsistency>(ItemTags.Value(s.Tags, ItemTags.Consistency), out var c) ? c
            : item.Kind == BackupItemKinds.PostgreSql ? RecoveryPointConsistency.ApplicationConsistent : RecoveryPointConsistency.FileSystemConsistent;
        var jobId = ItemTags.Value(s.Tags, "job:") is { } j && Guid.TryParseExact(j, "N", out var job) ? job : (Guid?)null;
        return new RecoveryPoint
        {
            Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = item.VaultId, SnapshotId = s.Id, CreatedAt = s.Time.UtcDateTime,
            Type = s.Tags.Contains(ItemTags.OnDemand) ? RecoveryPointType.OnDemand : RecoveryPointType.Scheduled, Consistency = consistency,
            RetainUntil = retainUntil, ExpiresAt = retainUntil, ImmutableUntil = s.KeepUntil?.UtcDateTime,
            HeldWhileImmutable = s.HeldUntilReleased, Files = s.Files, Bytes = s.Bytes, BytesAdded = s.BytesAdded, JobId = jobId,
        };
    }
}
