using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Features.Identity;

namespace Portal.Tests.Infrastructure;

/// <summary>Signed-in users of the shape the portal's sign-in produces.</summary>
public static class TestUsers
{
    public static ClaimsPrincipal WithRoles(string name, params string[] roles) => WithObjectId(Guid.NewGuid().ToString(), name, roles);

    public static ClaimsPrincipal WithObjectId(string objectId, string name, params string[] roles)
    {
        var claims = new List<Claim> { new("name", name), new(LocalSignIn.ObjectIdClaim, objectId) };
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "Test", "name", ClaimTypes.Role));
    }

    public static ClaimsPrincipal Anonymous => new(new ClaimsIdentity());
}

/// <summary>A caller of a feature service, fixed for the test.</summary>
public sealed class FixedCurrentUser(ClaimsPrincipal user) : ICurrentUser
{
    public Task<ClaimsPrincipal> GetPrincipalAsync() => Task.FromResult(user);
}

/// <summary>The authentication state a component sees, fixed for the test.</summary>
public sealed class FixedAuthenticationStateProvider(ClaimsPrincipal user) : AuthenticationStateProvider
{
    public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(user));
}
