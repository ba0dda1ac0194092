using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Features.Common;

namespace Portal.Features.Machines.Access;

/// <summary>The claims of an authenticated machine.</summary>
public static class MachineClaims
{
    /// <summary>The machine's vault id.</summary>
    public const string Vault = "vault";

    /// <summary>The machine's id (NameIdentifier), or null when <paramref name="user"/> is not a machine.</summary>
    public static Guid? MachineId(this ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true, AuthenticationType: MachineToken.Scheme } && Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            ? id
            : null;

    /// <summary>The machine's vault id.</summary>
    public static Guid VaultId(this ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(Vault)!);
}

/// <summary>What the scheme needs to know of a machine.</summary>
public sealed record MachineIdentity(Guid Id, Guid VaultId, string Name, byte[] SigningKey, DateTime? RevokedAt, string? RevokedBy);

/// <summary>
/// Looks machines up for the <c>Machine</c> scheme, keeping each answer at most <see cref="CacheFor"/> (by the injected
/// clock), so a revocation by another portal instance bites within that; a revocation this instance hears of
/// (<see cref="MachineSignals"/>) drops the machine at once.
/// </summary>
public sealed class MachineDirectory : IDisposable
{
    /// <summary>How long a looked-up machine is trusted without asking the database again.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(2);

    private readonly IDbContextFactory<PortalDbContext> dbFactory;
    private readonly TimeProvider clock;
    private readonly ConcurrentDictionary<Guid, (MachineIdentity Machine, DateTimeOffset At)> cache = new();
    private readonly IDisposable subscription;

    /// <summary>Listens to <paramref name="signals"/> for revocations.</summary>
    public MachineDirectory(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock, MachineSignals signals)
    {
        this.dbFactory = dbFactory;
        this.clock = clock;
        subscription = signals.OnRevoked(id =>
        {
            cache.TryRemove(id, out _);
            return Task.CompletedTask;
        });
    }

    /// <summary>The machine, or null when no machine has that id.</summary>
    public async Task<MachineIdentity?> FindAsync(Guid machineId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        if (cache.TryGetValue(machineId, out var hit) && now - hit.At < CacheFor && now >= hit.At)
            return hit.Machine;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var machine = await db.Machines.AsNoTracking().Where(m => m.Id == machineId)
            .Select(m => new MachineIdentity(m.Id, m.VaultId, m.Name, m.SigningKey, m.RevokedAt, m.RevokedBy))
            .FirstOrDefaultAsync(ct);
        if (machine is null)
            cache.TryRemove(machineId, out _);
        else
            cache[machineId] = (machine, now);
        return machine;
    }

    /// <summary>Stops listening.</summary>
    public void Dispose() => subscription.Dispose();
}

/// <summary>Options of the <c>Machine</c> scheme (none beyond the base ones).</summary>
public sealed class MachineAuthenticationOptions : AuthenticationSchemeOptions;

/// <summary>
/// The <c>Machine</c> authentication scheme: <c>Authorization: Machine TOKEN</c>, or the <c>access_token</c> query value on
/// the hub (WebSockets and server-sent events cannot send headers). The token is checked against the machine's
/// registered signing key and the portal's clock; a revoked machine is refused. Never the default scheme: pages and
/// users' endpoints do not look at machine tokens, and a user's cookie never authenticates here.
/// </summary>
public sealed class MachineAuthenticationHandler(
    IOptionsMonitor<MachineAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder, MachineDirectory machines, TimeProvider clock)
    : AuthenticationHandler<MachineAuthenticationOptions>(options, logger, encoder)
{
    private const string Prefix = MachineToken.Scheme + " ";

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Token() is not { } token)
            return AuthenticateResult.NoResult();
        if (MachineToken.ClaimedMachine(token) is not { } machineId)
            return AuthenticateResult.Fail("The machine token is malformed: update the agent, or register the machine again.");
        var machine = await machines.FindAsync(machineId, Context.RequestAborted);
        if (machine is null)
            return AuthenticateResult.Fail("This machine is not registered with this portal: register it with new credentials from the vault's page (Add a machine).");
        if (machine.RevokedAt is { } revokedAt)
            return AuthenticateResult.Fail($"This machine was revoked by {machine.RevokedBy} on {Format.Utc(revokedAt)}; register it again with new credentials.");
        if (MachineToken.Verify(token, machine.SigningKey, clock.GetUtcNow()) is { } problem)
            return AuthenticateResult.Fail(problem);
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, machine.Id.ToString()),
                new Claim(MachineClaims.Vault, machine.VaultId.ToString()),
                new Claim(ClaimTypes.Name, $"machine {machine.Name}"),
            ],
            MachineToken.Scheme, ClaimTypes.Name, ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = MachineToken.Scheme;
        AgentAnswers.NoStatusPages(Context);
        await AgentAnswers.WriteAsync(Context, StatusCodes.Status401Unauthorized,
            result.Failure?.Message ?? "This call needs a machine token (Authorization: Machine TOKEN): it is for Portal.Agent on a registered machine.");
    }

    /// <inheritdoc />
    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        AgentAnswers.NoStatusPages(Context);
        await AgentAnswers.WriteAsync(Context, StatusCodes.Status403Forbidden, "This call is for registered machines only.");
    }

    private string? Token()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            return header[Prefix.Length..].Trim();
        if (header.Length == 0 && Request.Path.StartsWithSegments(AgentRoutes.Hub) && Request.Query["access_token"].ToString() is { Length: > 0 } query)
            return query;
        return null;
    }
}
