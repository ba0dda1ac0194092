using Bunit;
using Portal.Components.Pages.Audit;
using Portal.Components.Pages.Policies;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// 100 KB typed into a text field dropped the user's connection without a word (issue 25): Blazor sends the whole value
/// in one SignalR message of at most 32 KB. Fields hold at most what fits, and say so.
/// </summary>
public sealed class FieldLimitTests : ProtectionComponentTest
{
    [Fact]
    public void Every_field_limit_fits_in_one_circuit_message_even_in_three_byte_characters()
    {
        int[] limits = [ProtectionRules.NameMaxLength, ProtectionRules.PathMaxLength, ProtectionRules.PatternsMaxLength, PolicyRules.NameMaxLength,
            VaultRules.NameMaxLength, FieldLimits.Search, FieldLimits.Confirm, FieldLimits.Secret, FieldLimits.Script, FieldLimits.HostName, FieldLimits.Identifier];
        Assert.All(limits, limit =>
        {
            Assert.True(limit <= FieldLimits.Longest, $"{limit} characters may not fit in {FieldLimits.CircuitMessageBytes} bytes");
            Assert.True(System.Text.Encoding.UTF8.GetByteCount(new string('€', limit)) + 1024 < FieldLimits.CircuitMessageBytes);
        });
    }

    [Fact]
    public void The_audit_logs_who_box_takes_at_most_200_characters_and_says_so_when_full()
    {
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<AuditLogPage>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("input[maxlength='200']")));
        var who = page.Find("input[maxlength='200']");
        Assert.DoesNotContain("At most 200 characters", page.Markup);

        who.Input(new string('x', 200));

        page.WaitForAssertion(() => Assert.Contains("At most 200 characters: the rest was not taken.", page.Markup));
    }

    [Fact]
    public async Task The_policy_name_takes_at_most_50_characters_with_a_counter()
    {
        await CreateVaultAsync("legal");
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<PolicyEditor>(p => p.Add(c => c.VaultName, "legal"));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#policy-name")));
        var name = page.Find("#policy-name");

        Assert.Equal("50", name.GetAttribute("maxlength"));
        name.Change(new string('p', 50));
        page.WaitForAssertion(() => Assert.Contains("50 / 50", page.Markup));
    }
}
