using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Features.Audit;
using Portal.Features.Common;

namespace Portal.Features.Machines.Access;

/// <summary>The audit actions of the agents' access.</summary>
public static class MachineAuditActions
{
    /// <summary>A machine registered with a credentials file (or was refused).</summary>
    public const string Register = "Machine.Register";

    /// <summary>A machine revoked its own registration (the agent's <c>unregister</c>).</summary>
    public const string Unregister = "Machine.Unregister";

    /// <summary>A machine sent its repository key sealed to the vault's escrow key.</summary>
    public const string EscrowKey = "Machine.EscrowKey";
}

/// <summary>
/// Registers a machine with a credentials file (single use, expiring, revocable): checks the secret in constant time,
/// the machine's name and public keys, then creates the machine and marks the credentials used in one transaction that
/// holds the credentials' row lock, so two registrations racing with one file cannot both win. Every refusal is audited
/// with its reason.
/// </summary>
public sealed class MachineRegistration(
    IDbContextFactory<PortalDbContext> dbFactory, EscrowKeys escrow, AuditLog audit, MachineSignals signals, TimeProvider clock,
    ILogger<MachineRegistration> logger)
{
    /// <summary>What a refused registration says when the file is unknown or its secret does not match.</summary>
    public const string NotIssued =
        "These credentials were not issued by this portal (or were altered): download new ones from the vault's page (Add a machine).";

    private const int MaxOperatingSystem = 200, MaxAgentVersion = 64;

    /// <summary>Registers the machine; a refusal is an <see cref="AgentRefusedException"/> (audited) with what to do.</summary>
    public async Task<RegisterResponse> RegisterAsync(RegisterRequest request, CancellationToken ct = default)
    {
        var actor = Actor(request.MachineName, request.CredentialId);
        var resource = $"credentials {request.CredentialId:N}";
        try
        {
            return await RegisterCheckedAsync(request, r => resource = r, ct);
        }
        catch (AgentRefusedException e)
        {
            await audit.RecordAsync(actor, MachineAuditActions.Register, resource, AuditOutcome.Refused, e.Message);
            throw;
        }
    }

    /// <summary>The machine revokes its own registration; its data stays in the vault. Audited, then announced.</summary>
    public async Task UnregisterAsync(Guid machineId, CancellationToken ct = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var machine = await db.Machines.FirstOrDefaultAsync(m => m.Id == machineId, ct)
                ?? throw new AgentRefusedException(404, "This machine is not registered with this portal.");
            if (machine.IsRevoked)
                return;
            var vault = await db.Vaults.AsNoTracking().Where(v => v.Id == machine.VaultId).Select(v => v.Name).FirstOrDefaultAsync(ct) ?? "";
            machine.RevokedAt = clock.GetUtcNow().UtcDateTime;
            machine.RevokedBy = $"machine {machine.Name} (unregister)";
            audit.Append(db, Actor(machine.Name, machine.Id), MachineAuditActions.Unregister, Resource(vault, machine.Name),
                "The machine revoked its own registration; its backups stay in the vault.");
            await db.SaveChangesAsync(ct);
        }

        await signals.RevokedAsync(machineId, ct);
    }

    private async Task<RegisterResponse> RegisterCheckedAsync(RegisterRequest request, Action<string> resource, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        MachineCredential credential;
        string vaultName;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            credential = await db.MachineCredentials.AsNoTracking().FirstOrDefaultAsync(c => c.Id == request.CredentialId, ct)
                ?? throw new AgentRefusedException(401, NotIssued);
            if (!SecretMatches(request.Secret, credential.SecretHash))
                throw new AgentRefusedException(401, NotIssued);
            vaultName = await db.Vaults.AsNoTracking().Where(v => v.Id == credential.VaultId).Select(v => v.Name).FirstOrDefaultAsync(ct)
                ?? throw new AgentRefusedException(401, NotIssued);
            resource($"vault {vaultName} / machine {Shorten(request.MachineName)}");
            await RefuseUnusableAsync(db, credential, now, ct);
        }

        var name = ValidName(request.MachineName);
        ValidText(request.OperatingSystem, "operating system", MaxOperatingSystem);
        ValidText(request.AgentVersion, "agent version", MaxAgentVersion);
        var signingKey = PublicKey(request.SigningKey, "signing", ecdsa: true);
        var agreementKey = PublicKey(request.AgreementKey, "agreement", ecdsa: false);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            await RefuseTakenNameAsync(db, credential.VaultId, vaultName, name, ct);

        var escrowKey = await escrow.PublicKeyAsync(credential.VaultId, ct);
        var machine = new Machine
        {
            Id = Guid.NewGuid(),
            VaultId = credential.VaultId,
            Name = name,
            NormalizedName = name.ToUpperInvariant(),
            OperatingSystem = request.OperatingSystem,
            AgentVersion = request.AgentVersion,
            SigningKey = signingKey,
            AgreementKey = agreementKey,
            CredentialId = credential.Id,
            RegisteredBy = credential.CreatedBy,
            RegisteredAt = now,
        };

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // The row lock: a second registration with the same file waits here, then sees it used.
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM machine_credentials WHERE \"Id\" = {credential.Id} FOR UPDATE", ct);
            var locked = await db.MachineCredentials.FirstOrDefaultAsync(c => c.Id == credential.Id, ct)
                ?? throw new AgentRefusedException(401, NotIssued);
            await RefuseUnusableAsync(db, locked, now, ct);
            await RefuseTakenNameAsync(db, credential.VaultId, vaultName, name, ct);
            db.Machines.Add(machine);
            locked.UsedAt = now;
            locked.MachineId = machine.Id;
            audit.Append(db, Actor(name, machine.Id), MachineAuditActions.Register, Resource(vaultName, name),
                $"Registered with credentials {credential.Id:N} made by {credential.CreatedBy}; {request.OperatingSystem}, agent {request.AgentVersion}.");
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                throw new AgentRefusedException(409, NameTaken(name, vaultName));
            }

            await transaction.CommitAsync(ct);
        }

        logger.LogInformation("Machine {Machine} registered to vault {Vault}", name, vaultName);
        return new RegisterResponse(machine.Id, credential.VaultId, vaultName, name, Convert.ToBase64String(escrowKey));
    }

    private static async Task RefuseUnusableAsync(PortalDbContext db, MachineCredential credential, DateTime now, CancellationToken ct)
    {
        if (credential.RevokedAt is { } revokedAt)
            throw new AgentRefusedException(401,
                $"These credentials were revoked by {credential.RevokedBy} on {Format.Utc(revokedAt)}: download new ones from the vault's page (Add a machine).");
        if (credential.UsedAt is { } usedAt)
        {
            var by = credential.MachineId is { } id
                ? await db.Machines.AsNoTracking().Where(m => m.Id == id).Select(m => m.Name).FirstOrDefaultAsync(ct)
                : null;
            throw new AgentRefusedException(409,
                $"These credentials were already used by machine {by ?? "(removed)"} on {Format.Utc(usedAt)}: each file registers one machine; download new ones.");
        }

        if (now >= credential.ExpiresAt)
            throw new AgentRefusedException(401,
                $"These credentials expired on {Format.Utc(credential.ExpiresAt)}: download new ones from the vault's page (Add a machine).");
    }

    private static async Task RefuseTakenNameAsync(PortalDbContext db, Guid vaultId, string vaultName, string name, CancellationToken ct)
    {
        var normalized = name.ToUpperInvariant();
        if (await db.Machines.AnyAsync(m => m.VaultId == vaultId && m.NormalizedName == normalized && m.RevokedAt == null, ct))
            throw new AgentRefusedException(409, NameTaken(name, vaultName));
    }

    private static string NameTaken(string name, string vaultName) =>
        $"A machine named {name} is already registered to vault {vaultName}: revoke it first or register with --name.";

    private static bool SecretMatches(string? secret, byte[] expected)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length > 512 || expected.Length != SHA256.HashSizeInBytes)
            return false;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        return CryptographicOperations.FixedTimeEquals(hash, expected);
    }

    /// <summary>A host name: 1 to 253 characters, dot-separated labels of 1 to 63 letters, digits and hyphens, no hyphen at either end.</summary>
    internal static string ValidName(string? name)
    {
        var problem = name is null || name.Length == 0 ? "is empty"
            : name.Length > 253 ? $"has {name.Length} characters (at most 253)"
            : name.Split('.').Any(label => !IsLabel(label)) ? "is not a host name"
            : null;
        if (problem is not null)
            throw new AgentRefusedException(400,
                $"The machine name '{Shorten(name)}' {problem}: use letters, digits and hyphens in dot-separated parts of 1 to 63 characters " +
                "(for example web-01 or web-01.contoso.com); give another name with --name.");
        return name!;
    }

    private static bool IsLabel(string label) =>
        label.Length is >= 1 and <= 63 && label[0] != '-' && label[^1] != '-' && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static void ValidText(string? value, string what, int max)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > max || value.Any(char.IsControl))
            throw new AgentRefusedException(400,
                $"The machine's {what} must be 1 to {max} printable characters (it has {value?.Length ?? 0}): update the agent.");
    }

    private static byte[] PublicKey(string? base64, string what, bool ecdsa)
    {
        var problem = $"The machine's {what} key is not a P-256 public key (SubjectPublicKeyInfo, base64): the agent's state folder is damaged; " +
            "delete it and register again.";
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64 ?? "");
        }
        catch (FormatException)
        {
            throw new AgentRefusedException(400, problem);
        }

        try
        {
            ECParameters parameters;
            if (ecdsa)
            {
                using var key = ECDsa.Create();
                key.ImportSubjectPublicKeyInfo(bytes, out var read);
                parameters = read == bytes.Length ? key.ExportParameters(false) : default;
            }
            else
            {
                using var key = ECDiffieHellman.Create();
                key.ImportSubjectPublicKeyInfo(bytes, out var read);
                parameters = read == bytes.Length ? key.ExportParameters(false) : default;
            }

            if (parameters.Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
                throw new AgentRefusedException(400, problem);
            return bytes;
        }
        catch (CryptographicException)
        {
            throw new AgentRefusedException(400, problem);
        }
    }

    private static string Resource(string vaultName, string machineName) => $"vault {vaultName} / machine {machineName}";

    private static string Shorten(string? text) => text is null ? "" : text.Length > 80 ? text[..80] + "…" : text;

    private static ClaimsPrincipal Actor(string? machineName, Guid id) =>
        new(new ClaimsIdentity([new Claim("name", $"machine {Shorten(machineName)}"), new Claim(Identity.LocalSignIn.ObjectIdClaim, id.ToString())], MachineToken.Scheme));
}
