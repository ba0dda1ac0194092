using Bunit;
using Portal.Components.Pages.Vaults;
using Portal.Features.Identity;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

public sealed class VaultListTests : PortalComponentTest
{
    [Fact]
    public void With_no_vaults_it_says_what_to_do_first_and_offers_create_to_a_contributor()
    {
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));

        var page = RenderPage<VaultList>();

        page.WaitForAssertion(() => Assert.Contains("Create a vault first", page.Find("[data-testid=vaults-empty]").TextContent));
        Assert.NotEmpty(page.FindAll("[data-testid=create-vault]"));
    }

    [Fact]
    public void A_reader_sees_the_list_but_is_not_offered_create()
    {
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<VaultList>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vaults-empty]")));
        Assert.Empty(page.FindAll("[data-testid=create-vault]"));
    }

    [Fact]
    public async Task It_pages_on_the_server_25_rows_at_a_time()
    {
        await SeedVaultsAsync(30);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<VaultList>();

        page.WaitForAssertion(() => Assert.Equal(25, page.FindAll("[data-testid=vault-link]").Count));
        Assert.Equal("vault-001", page.FindAll("[data-testid=vault-link]")[0].TextContent);
        Assert.Contains("1-25 of 30", page.Markup);

        page.Find("button[aria-label='Next page']").Click();

        page.WaitForAssertion(() => Assert.Equal(5, page.FindAll("[data-testid=vault-link]").Count));
        Assert.Equal("vault-026", page.FindAll("[data-testid=vault-link]")[0].TextContent);
        Assert.Contains("26-30 of 30", page.Markup);
    }
}
