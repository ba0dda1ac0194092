using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Features.Vaults;

namespace Portal.Features.Machines.Administration;

/// <summary>
/// The machines of the portal's pages (Azure Backup's "Add a machine" and its registered servers): credentials files,
/// the machine list with online/offline status, revocation and upload limits. Any portal role reads; Backup.Contributor
/// and Backup.Operator change, enforced here whatever the page shows. Secrets are never stored, logged or audited.
/// </summary>
public sealed class MachineService(
    IDbContextFactory<PortalDbContext> dbFactory,
    ICurrentUser currentUser,
    AuditLog audit,
    MachineSignals signals,
    IOptions<MachinesOptions> options,
    TimeProvider clock,
    ILogger<MachineService> logger)
{
    /// <summary>The largest upload limit accepted (KiB/s): 10 GiB/s, far above any link a limit is meant for.</summary>
    public const int MaxUploadKiBPerSecond = 10 * 1024 * 1024;

    private static readonly string[] Changers = [PortalRoles.Contributor, PortalRoles.Operator];

    private static readonly JsonSerializerOptions FileJson = new() { WriteIndented = true };

    /// <summary>
    /// The machines of <paramref name="vaultId"/> (all vaults when null), revoked ones included (marked
    /// <see cref="MachineStatus.Revoked"/>, after the others): online or offline, their items and their last backup.
    /// </summary>
    public async Task<IReadOnlyList<MachineRow>> ListAsync(Guid? vaultId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view machines");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var machines = db.Machines.AsNoTracking();
        if (vaultId is { } only)
            machines = machines.Where(m => m.VaultId == only);
        var rows = await machines
            .Join(db.Vaults, m => m.VaultId, v => v.Id, (m, v) => new { Machine = m, VaultName = v.Name })
            .ToListAsync(ct);
        var ids = rows.Select(r => r.Machine.Id).ToList();
        var items = (await db.BackupItems.AsNoTracking()
                .Where(i => i.MachineId != null && ids.Contains(i.MachineId.Value) && i.State != ProtectionState.SoftDeleted)
                .Select(i => new { MachineId = i.MachineId!.Value, i.Name, i.LastBackupAt, i.LastBackupStatus })
                .ToListAsync(ct))
            .ToLookup(i => i.MachineId);

        var now = clock.GetUtcNow().UtcDateTime;
        return [.. rows
            .Select(r =>
            {
                var m = r.Machine;
                var own = items[m.Id].ToList();
                var last = own.Where(i => i.LastBackupAt is not null).MaxBy(i => i.LastBackupAt);
                var status = StatusOf(m, now);
                return new MachineRow(
                    m.Id, m.VaultId, m.Name, r.VaultName, m.OperatingSystem, m.AgentVersion, m.RegisteredAt, m.RegisteredBy, m.LastContactAt,
                    status, status == MachineStatus.Offline ? OfflineSince(m) : null, m.RevokedAt, m.RevokedBy,
                    [.. own.Select(i => i.Name).Order(StringComparer.OrdinalIgnoreCase)], last?.LastBackupStatus, last?.LastBackupAt,
                    m.UploadKiBPerSecond, m.OffHoursUploadKiBPerSecond);
            })
            .OrderBy(r => r.IsRevoked)
            .ThenBy(r => r.VaultName, StringComparer.OrdinalIgnoreCase)
            .ThenBy(r => r.Name, StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>
    /// Online: an instance holds the machine's connection and heard from it within <see cref="MachineRules.ContactTimeout"/>
    /// (a connection claimed by a dead instance goes stale).
    /// </summary>
    public static MachineStatus StatusOf(Machine machine, DateTime now) =>
        machine.IsRevoked ? MachineStatus.Revoked
        : machine.ConnectedTo is not null && machine.LastContactAt is { } contact && now - contact <= MachineRules.ContactTimeout ? MachineStatus.Online
        : MachineStatus.Offline;

    /// <summary>Since when an offline machine is offline: its disconnection, else (a stale connection) its last contact.</summary>
    private static DateTime? OfflineSince(Machine m) =>
        m.ConnectedTo is null ? m.DisconnectedAt ?? m.LastContactAt : m.LastContactAt;

    /// <summary>
    /// "Add a machine": a new single-use credentials file for <paramref name="vaultId"/>, valid for
    /// <see cref="MachineRules.CredentialLifetime"/>. Only the secret's hash is stored; the file goes to the caller only.
    /// The file names <see cref="MachinesOptions.PublicUrl"/> as the portal's address when it is set, else <paramref name="portalUrl"/>
    /// (the address the user's browser used).
    /// </summary>
    public Task<MachineCredentialsDownload> CreateCredentialsAsync(Guid vaultId, string portalUrl, CancellationToken ct = default) =>
        audit.GuardAsync(MachineAuditActions.CreateCredentials, $"vault/{vaultId}", async user =>
        {
            Identity.Access.Require(user, "add machines to a vault", Changers);
            var address = PortalAddress(options.Value.PublicUrl, portalUrl);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) ?? throw VaultService.Gone();
            var now = clock.GetUtcNow().UtcDateTime;
            if (await db.ApprovalRequests.AnyAsync(r => r.ResourceId == vault.Id && r.Operation == CriticalOperations.DeleteVault
                                                         && r.Status == ApprovalStatus.Pending && r.ExpiresAt > now, ct))
                throw new PortalConflictException(
                    $"Vault {vault.Name} is waiting to be deleted, so no machine can be added to it. " +
                    "Reject or cancel the deletion request on the Approvals page first, or add the machine to another vault.");

            var secret = MachineCredentialSecret.Create();
            var credential = new MachineCredential
            {
                Id = Guid.CreateVersion7(),
                VaultId = vault.Id,
                SecretHash = MachineCredentialSecret.Hash(secret),
                CreatedAt = now,
                CreatedBy = user.DisplayName(),
                ExpiresAt = now + MachineRules.CredentialLifetime,
            };
            db.MachineCredentials.Add(credential);
            audit.Append(db, user, MachineAuditActions.CreateCredentials, VaultService.VaultResource(vault.Name),
                $"Create machine credentials {credential.Id} for vault {vault.Name}, single use, expires {Format.Utc(credential.ExpiresAt)}");
            await db.SaveChangesAsync(ct);

            var file = new MachineCredentialsFile(1, address, vault.Id, vault.Name, credential.Id, secret,
                new DateTimeOffset(credential.ExpiresAt, TimeSpan.Zero));
            return new MachineCredentialsDownload(
                $"{vault.Name}-{now:yyyy-MM-dd}.portalcredentials", JsonSerializer.SerializeToUtf8Bytes(file, FileJson), credential.Id, credential.ExpiresAt);
        });

    /// <summary>The credentials files of <paramref name="vaultId"/>, newest first, with their state (never a secret).</summary>
    public async Task<IReadOnlyList<MachineCredentialRow>> ListCredentialsAsync(Guid vaultId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view a vault's machine credentials");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var rows = await db.MachineCredentials.AsNoTracking()
            .Where(c => c.VaultId == vaultId)
            .OrderByDescending(c => c.CreatedAt)
            .Select(c => new
            {
                c.Id, c.VaultId, c.CreatedAt, c.CreatedBy, c.ExpiresAt, c.UsedAt, c.MachineId, c.RevokedAt, c.RevokedBy,
                MachineName = db.Machines.Where(m => m.Id == c.MachineId).Select(m => m.Name).FirstOrDefault(),
            })
            .ToListAsync(ct);
        return [.. rows.Select(c => new MachineCredentialRow(
            c.Id, c.VaultId, c.CreatedAt, c.CreatedBy, c.ExpiresAt, StateOf(c.RevokedAt, c.UsedAt, c.ExpiresAt, now),
            c.UsedAt, c.MachineId, c.MachineName, c.RevokedAt, c.RevokedBy))];
    }

    private static MachineCredentialState StateOf(DateTime? revokedAt, DateTime? usedAt, DateTime expiresAt, DateTime now) =>
        revokedAt is not null ? MachineCredentialState.Revoked
        : usedAt is not null ? MachineCredentialState.Used
        : now >= expiresAt ? MachineCredentialState.Expired
        : MachineCredentialState.Waiting;

    /// <summary>Revokes a waiting credentials file: no machine can register with it any more.</summary>
    public Task RevokeCredentialsAsync(Guid credentialId, CancellationToken ct = default) =>
        audit.GuardAsync(MachineAuditActions.RevokeCredentials, $"machine-credentials/{credentialId}", async user =>
        {
            Identity.Access.Require(user, "revoke machine credentials", Changers);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var credential = await db.MachineCredentials.FirstOrDefaultAsync(c => c.Id == credentialId, ct)
                ?? throw new PortalNotFoundException("These machine credentials no longer exist. Reload the vault's page.");
            var now = clock.GetUtcNow().UtcDateTime;
            switch (StateOf(credential.RevokedAt, credential.UsedAt, credential.ExpiresAt, now))
            {
                case MachineCredentialState.Revoked:
                    throw new PortalConflictException(
                        $"These credentials were already revoked by {credential.RevokedBy} on {Format.Utc(credential.RevokedAt)}. Nothing changed.");
                case MachineCredentialState.Used:
                    var machine = await db.Machines.AsNoTracking().Where(m => m.Id == credential.MachineId).Select(m => m.Name).FirstOrDefaultAsync(ct);
                    throw new PortalConflictException(
                        $"These credentials were already used by machine {machine ?? "(removed)"} on {Format.Utc(credential.UsedAt)}: they cannot register " +
                        "another machine. To cut that machine off, revoke the machine in the vault's Machines list.");
                case MachineCredentialState.Expired:
                    throw new PortalConflictException(
                        $"These credentials expired on {Format.Utc(credential.ExpiresAt)}: no machine can register with them any more. Nothing to revoke.");
            }

            credential.RevokedAt = now;
            credential.RevokedBy = user.DisplayName();
            var vaultName = await db.Vaults.Where(v => v.Id == credential.VaultId).Select(v => v.Name).FirstOrDefaultAsync(ct);
            audit.Append(db, user, MachineAuditActions.RevokeCredentials, VaultService.VaultResource(vaultName),
                $"Revoke machine credentials {credential.Id} made by {credential.CreatedBy} on {Format.Utc(credential.CreatedAt)}");
            await db.SaveOrExplainAsync(() => Task.FromResult<Exception>(new PortalConflictException(
                "These credentials changed while you revoked them (a machine may have just registered with them). Reload the vault's page.")), ct);
        });

    /// <summary>
    /// Revokes a machine: it can no longer connect or reach storage, its connection is closed within seconds
    /// (<see cref="MachineSignals.RevokedAsync"/> after the commit). Its repository, items and recovery points stay in the vault.
    /// </summary>
    public Task RevokeMachineAsync(Guid machineId, CancellationToken ct = default) =>
        audit.GuardAsync(MachineAuditActions.Revoke, $"machine/{machineId}", async user =>
        {
            Identity.Access.Require(user, "revoke machines", Changers);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var machine = await db.Machines.FirstOrDefaultAsync(m => m.Id == machineId, ct) ?? throw MachineGone();
            if (machine.RevokedAt is { } at)
                throw new PortalConflictException($"Machine {machine.Name} was already revoked by {machine.RevokedBy} on {Format.Utc(at)}. Nothing changed.");

            machine.RevokedAt = clock.GetUtcNow().UtcDateTime;
            machine.RevokedBy = user.DisplayName();
            var vaultName = await db.Vaults.Where(v => v.Id == machine.VaultId).Select(v => v.Name).FirstOrDefaultAsync(ct);
            audit.Append(db, user, MachineAuditActions.Revoke, MachineResource(vaultName, machine.Name),
                "Revoked: the machine can no longer connect or reach storage; its backup items and recovery points stay in the vault");
            await db.SaveOrExplainAsync(async () =>
            {
                await using var fresh = await dbFactory.CreateDbContextAsync(ct);
                var current = await fresh.Machines.AsNoTracking().FirstOrDefaultAsync(m => m.Id == machineId, ct);
                return current is null ? MachineGone()
                    : current.RevokedAt is not null ? new PortalConflictException($"Machine {current.Name} was already revoked by {current.RevokedBy} on {Format.Utc(current.RevokedAt)}. Nothing changed.")
                    : new PortalConflictException($"Machine {current.Name} changed while you revoked it. Reload the page and revoke it again.");
            }, ct);
            try
            {
                await signals.RevokedAsync(machine.Id, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The revocation is committed: the Machine scheme refuses the machine's next call whatever happens here.
                logger.LogWarning(e, "Machine {MachineId} is revoked, but closing its connection now failed; it is refused at its next call", machine.Id);
            }
        });

    /// <summary>
    /// Sets a machine's upload limits in KiB/s during and outside work hours (null: no limit), as Azure's agent throttling;
    /// a connected agent is sent them at once (<see cref="MachineSignals.SettingsChangedAsync"/> after the commit) and
    /// applies them to the uploads in progress; an offline one reads them when it connects.
    /// </summary>
    public Task SetUploadLimitsAsync(Guid machineId, int? workKiBPerSecond, int? offHoursKiBPerSecond, CancellationToken ct = default) =>
        audit.GuardAsync(MachineAuditActions.SetUploadLimits, $"machine/{machineId}", async user =>
        {
            Identity.Access.Require(user, "change a machine's upload limits", Changers);
            var errors = new Dictionary<string, string>();
            if (CheckLimit(workKiBPerSecond, "during work hours") is { } workError)
                errors[nameof(Machine.UploadKiBPerSecond)] = workError;
            if (CheckLimit(offHoursKiBPerSecond, "outside work hours") is { } offError)
                errors[nameof(Machine.OffHoursUploadKiBPerSecond)] = offError;
            if (errors.Count > 0)
                throw new PortalValidationException(errors);

            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var machine = await db.Machines.FirstOrDefaultAsync(m => m.Id == machineId, ct) ?? throw MachineGone();
            if (machine.RevokedAt is { } at)
                throw new PortalConflictException($"Machine {machine.Name} was revoked by {machine.RevokedBy} on {Format.Utc(at)}: it no longer uploads, so it has no limits to set.");
            var before = $"{Limit(machine.UploadKiBPerSecond)} in work hours, {Limit(machine.OffHoursUploadKiBPerSecond)} outside";
            machine.UploadKiBPerSecond = workKiBPerSecond;
            machine.OffHoursUploadKiBPerSecond = offHoursKiBPerSecond;
            var vaultName = await db.Vaults.Where(v => v.Id == machine.VaultId).Select(v => v.Name).FirstOrDefaultAsync(ct);
            audit.Append(db, user, MachineAuditActions.SetUploadLimits, MachineResource(vaultName, machine.Name),
                $"{before} → {Limit(workKiBPerSecond)} in work hours, {Limit(offHoursKiBPerSecond)} outside");
            await db.SaveOrExplainAsync(() => Task.FromResult<Exception>(
                new PortalConflictException($"Machine {machine.Name} changed while you saved its limits. Reload the page and set them again.")), ct);
            try
            {
                await signals.SettingsChangedAsync(machine.Id, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The limits are saved: the agent reads them at its next connection.
                logger.LogWarning(e, "The upload limits of machine {MachineId} are saved, but telling its agent now failed; it reads them when it reconnects", machine.Id);
            }
        });

    private static string? CheckLimit(int? kiBPerSecond, string when) => kiBPerSecond switch
    {
        null => null,
        <= 0 => $"The upload limit {when} must be a positive number of KiB/s; leave it empty for no limit.",
        > MaxUploadKiBPerSecond => $"The upload limit {when} can be at most {MaxUploadKiBPerSecond} KiB/s (10 GiB/s); leave it empty for no limit.",
        _ => null,
    };

    private static string Limit(int? kiBPerSecond) => kiBPerSecond is { } v ? $"{v} KiB/s" : "no limit";

    /// <summary>
    /// The portal's address for credentials files: <paramref name="publicUrl"/> (configuration) when set, else
    /// <paramref name="requestUrl"/>; an absolute http(s) address without a trailing slash.
    /// </summary>
    internal static string PortalAddress(string? publicUrl, string? requestUrl)
    {
        var configured = !string.IsNullOrWhiteSpace(publicUrl);
        var candidate = (configured ? publicUrl : requestUrl)?.Trim() ?? "";
        if (!Uri.TryCreate(candidate, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw new PortalValidationException("PortalUrl", configured
                ? $"Machines:PublicUrl is \"{candidate}\", which is not an http(s) address. Set it to the address machines reach the portal at, such as https://backup.contoso.com."
                : $"The portal's address \"{candidate}\" is not an http(s) address. Set Machines:PublicUrl to the address machines reach the portal at, such as https://backup.contoso.com.");
        return uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    internal static string MachineResource(string? vaultName, string machineName) => $"vault/{vaultName}/machine/{machineName}";

    private static PortalNotFoundException MachineGone() => new("This machine is no longer registered. Reload the page.");
}
