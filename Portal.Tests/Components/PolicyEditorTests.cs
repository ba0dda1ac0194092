using AngleSharp.Dom;
using Bunit;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using Portal.Components.Pages.Policies;
using Portal.Engine.Retention;
using Portal.Features.Identity;
using Portal.Features.Policies;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The policy editor's validation, summary and timeline as a Backup.Contributor sees them (issue 25).</summary>
public sealed class PolicyEditorTests : ProtectionComponentTest
{
    private async Task<IRenderedComponent<PolicyEditor>> NewPolicyAsync()
    {
        await CreateVaultAsync("legal");
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<PolicyEditor>(p => p.Add(c => c.VaultName, "legal"));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#policy-name")));
        page.Find("#policy-name").Change("Weekly");
        return page;
    }

    private static IElement Switch(IRenderedComponent<PolicyEditor> page, string label) =>
        page.FindAll("label").First(l => l.TextContent.Contains(label) && l.QuerySelector("input") is not null).QuerySelector("input")!;

    private static string Summary(IRenderedComponent<PolicyEditor> page) => page.Find("[data-testid=policy-summary]").TextContent;

    private static IReadOnlyList<string> FieldErrors(IRenderedComponent<PolicyEditor> page) =>
        [.. page.FindAll(".mud-error-text, .mud-input-helper-text.mud-input-error").Select(e => e.TextContent.Trim()).Where(t => t.Length > 0)];

    private async Task<PolicyDefinition?> SavedAsync(string name)
    {
        await using var db = Database.Factory.CreateDbContext();
        var row = await db.BackupPolicies.FirstOrDefaultAsync(p => p.Name == name);
        return row is null ? null : PolicyDefinition.FromJson(row.Definition);
    }

    [Fact]
    public async Task Switching_to_weekly_keeps_weekly_retention_on_and_monthly_and_yearly_days_valid_and_saves()
    {
        var page = await NewPolicyAsync();

        page.FindAll("[data-testid=policy-frequency] input")[1].Click(); // Weekly
        page.WaitForAssertion(() => Assert.Contains("weekly on Sun", Summary(page)));
        Assert.True(Switch(page, "Weekly points").IsChecked()); // it turned every tier off
        Switch(page, "Monthly points").Change(true);
        Switch(page, "Yearly points").Change(true);

        page.WaitForAssertion(() => Assert.Contains("Keeps up to", Summary(page)));
        Assert.Empty(FieldErrors(page)); // monthly and yearly defaulted to day 1, which a weekly schedule refuses
        page.Find("[data-testid=policy-save]").Click();

        await page.WaitForAssertionAsync(async () => Assert.NotNull(await SavedAsync("Weekly")));
        var saved = (await SavedAsync("Weekly"))!;
        Assert.Equal(ScheduleFrequency.Weekly, saved.Schedule.Frequency);
        Assert.Equal(new DaySelector(Week: 1, Weekday: DayOfWeek.Sunday), saved.Retention.Monthly!.Day);
        Assert.Equal([DayOfWeek.Sunday], saved.Retention.Weekly!.Days);
    }

    [Fact]
    public async Task A_number_out_of_range_is_refused_with_its_range_never_clamped_and_the_error_goes_once_fixed()
    {
        var page = await NewPolicyAsync();

        page.Find("#policy-daily-days").Input("99999999999999999999");
        page.WaitForAssertion(() => Assert.Contains("99999999999999999999 is far too large.", FieldErrors(page)));
        Assert.Contains("Keep daily points 7 to 9,999 days.", FieldErrors(page));
        Assert.Equal("99999999999999999999", page.Find("#policy-daily-days").GetAttribute("value")); // not turned into 7 or 4
        page.Find("[data-testid=policy-save]").Click();
        Assert.Null(await SavedAsync("Weekly"));

        page.Find("#policy-daily-days").Input("3");
        page.WaitForAssertion(() => Assert.Equal(["Keep daily points 7 to 9,999 days."], FieldErrors(page)));
        page.Find("#policy-daily-days").Input("abc");
        page.WaitForAssertion(() => Assert.Contains("Enter a whole number, digits only.", FieldErrors(page)));

        page.Find("#policy-daily-days").Input("45");
        page.WaitForAssertion(() => Assert.Empty(FieldErrors(page))); // regression: the error stayed after the fix until Save
        Assert.Contains("daily points 45 days", Summary(page));
        page.Find("[data-testid=policy-save]").Click();
        await page.WaitForAssertionAsync(async () => Assert.Equal(45, (await SavedAsync("Weekly"))?.Retention.DailyDays));
    }

    [Fact]
    public async Task The_summary_follows_the_monthly_day_dropdown()
    {
        var page = await NewPolicyAsync();
        Switch(page, "Monthly points").Change(true);
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindComponents<DayField>()));

        var day = page.FindComponents<MudSelect<int>>().Single(); // the monthly day (by day number)
        await page.InvokeAsync(() => day.Instance.ValueChanged.InvokeAsync(15)); // what choosing "15" in the dropdown does

        // Regression (issue 25): the summary ignored the day dropdown (the dropdown's component re-rendered, the editor did not).
        page.WaitForAssertion(() => Assert.Contains("monthly (day 15) 12 months", Summary(page)));
    }

    [Fact]
    public async Task A_non_ascii_policy_name_is_refused_in_plain_words()
    {
        var page = await NewPolicyAsync();
        page.Find("#policy-name").Change("été");
        page.WaitForAssertion(() => Assert.Contains(FieldErrors(page), e => e.Contains("only the letters A to Z (no accents or other alphabets)") && e.Contains("\"é\"")));
    }

    [Fact]
    public async Task The_timeline_marks_the_points_each_tier_keeps()
    {
        var page = await NewPolicyAsync(); // daily at 22:30 UTC, daily points 30 days
        Switch(page, "Weekly points").Change(true);
        page.Find("#policy-weeks").Input("8");

        page.WaitForAssertion(() => Assert.Equal(["daily", "weekly"], page.FindAll("[data-testid=policy-timeline-row]").Select(r => r.GetAttribute("data-tier"))));
        var rows = page.FindAll("[data-testid=policy-timeline-row]");
        var daily = rows[0].QuerySelectorAll("[data-testid=policy-timeline-cell]");
        Assert.Equal(30, daily.Length);
        Assert.True(daily.Skip(1).All(c => c.GetAttribute("data-kept") == "true")); // every past day's point (today's may not be made yet)
        var weekly = rows[1].QuerySelectorAll("[data-testid=policy-timeline-cell]");
        Assert.Equal(8, weekly.Length);
        Assert.True(weekly.Skip(1).All(c => c.GetAttribute("data-kept") == "true")); // one Sunday point in each full week
        Assert.Contains("8 weeks", rows[1].TextContent);
    }
}
