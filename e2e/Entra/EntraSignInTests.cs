using System.Net;
using Portal.Features.Identity;

namespace Portal.E2E.Entra;

/// <summary>
/// Sign-in through the real OpenID Connect redirect flow: Microsoft.Identity.Web, configured as in production,
/// against the local Entra-shaped provider; Entra app roles decide what each user may open.
/// </summary>
public sealed class EntraSignInTests(EntraFixture fixture) : IClassFixture<EntraFixture>
{
    private static EntraUser[] Users => EntraFixture.Users;
    private EntraProvider provider => fixture.Provider;
    private EntraPortalApp app => fixture.App;

    private async Task<Page> SignInAsync(HttpBrowser browser, EntraUser user, string password, string path = "/vaults")
    {
        var login = await browser.GetAsync(app.BaseUrl + path);
        Assert.StartsWith(provider.Issuer + "/interaction/", login.Url.ToString());
        var afterLogin = await browser.SubmitAsync(login, values: new Dictionary<string, string> { ["username"] = user.Username, ["password"] = password });
        if (!afterLogin.Html.Contains("/signin-oidc", StringComparison.Ordinal))
            return afterLogin; // refused: still at the provider
        return await browser.SubmitAsync(afterLogin); // the provider's auto-submitting form_post back to the portal
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public async Task Each_role_signs_in_through_the_redirect_flow_and_reaches_what_its_role_allows(int userIndex, bool readsAudit)
    {
        var user = Users[userIndex];
        using var browser = new HttpBrowser(provider);

        var vaults = await SignInAsync(browser, user, user.Password);

        Assert.Equal(app.BaseUrl + "/vaults", vaults.Url.ToString());
        Assert.Equal(user.Name, vaults.TestId("user-name"));
        var audit = await browser.GetAsync(app.BaseUrl + "/audit");
        Assert.Equal(readsAudit ? "/audit" : "/account/access-denied", audit.Url.AbsolutePath);
        Assert.Equal(user.Roles.Contains(PortalRoles.Contributor) ? 1 : 0,
            vaults.Document.QuerySelectorAll("[data-testid='create-vault']").Length);
    }

    [Fact]
    public async Task A_wrong_password_does_not_sign_in()
    {
        using var browser = new HttpBrowser(provider);

        var refused = await SignInAsync(browser, Users[0], "not-the-password");

        Assert.StartsWith(provider.Issuer, refused.Url.ToString());
        Assert.Contains("Your account or password is incorrect.", refused.Html);
        using var portal = await browser.PeekAsync(app.BaseUrl + "/vaults");
        Assert.Equal(HttpStatusCode.Redirect, portal.StatusCode);
        Assert.StartsWith(provider.Issuer + "/auth?", portal.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Sign_out_ends_the_portal_session()
    {
        using var browser = new HttpBrowser(provider);
        var vaults = await SignInAsync(browser, Users[2], Users[2].Password);

        await browser.SubmitAsync(vaults, "form[action='account/signout']");

        using var portal = await browser.PeekAsync(app.BaseUrl + "/vaults");
        Assert.Equal(HttpStatusCode.Redirect, portal.StatusCode);
        Assert.StartsWith(provider.Issuer + "/auth?", portal.Headers.Location!.ToString());
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/vaults")]
    [InlineData("/audit/export.csv")]
    [InlineData("/approvals")]
    public async Task Anonymous_requests_are_sent_to_the_provider(string path)
    {
        using var browser = new HttpBrowser(provider);

        using var response = await browser.PeekAsync(app.BaseUrl + path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith(provider.Issuer + "/auth?", location);
        Assert.Contains("client_id=" + provider.ClientId, location);
    }

    [Fact]
    public async Task The_local_development_sign_in_is_refused_when_Entra_is_configured()
    {
        using var browser = new HttpBrowser(provider);

        var page = await browser.GetAsync(app.BaseUrl + "/account/dev-signin");

        Assert.NotNull(page.TestId("dev-signin-refused"));
        Assert.Empty(page.Document.QuerySelectorAll("#dev-signin-submit"));
    }
}
