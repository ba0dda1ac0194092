using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Vaults;
using Portal.Features.Identity;
using Portal.Features.Replication;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The vault page's replication limits dialog: what is wrong is said at its field, nothing is saved until it is right.</summary>
public sealed class ReplicationLimitsDialogTests : PortalComponentTest
{
    /// <summary>The checkbox of a work day (found again each time: the dialog re-renders around it).</summary>
    private static AngleSharp.Dom.IElement DayBox(IRenderedComponent<MudDialogProvider> provider, string day)
    {
        var box = provider.Find($"[data-testid=replication-work-day][data-day={day}]");
        return box.TagName == "INPUT" ? box : box.QuerySelector("input[type=checkbox]")!;
    }

    [Fact]
    public async Task Wrong_fields_are_named_where_they_are_typed_nothing_is_saved_and_the_fixed_form_saves_and_closes()
    {
        await SeedVaultsAsync(1);
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        RenderProviders();
        var provider = Context.Render<MudDialogProvider>();
        Guid vaultId;
        await using (var db = Database.Factory.CreateDbContext())
            vaultId = (await db.Vaults.SingleAsync()).Id;
        var view = await Context.Services.GetRequiredService<ReplicationLimitsService>().GetAsync(vaultId);
        Assert.False(view.SetInPortal);
        IDialogReference? dialog = null;
        await provider.InvokeAsync(async () => dialog = await Context.Services.GetRequiredService<IDialogService>().ShowAsync<ReplicationLimitsDialog>("Replication limits",
            new DialogParameters<ReplicationLimitsDialog> { { d => d.VaultId, vaultId }, { d => d.VaultName, "vault-001" }, { d => d.View, view } }));
        Assert.Contains("No limit: replication copies as fast as the paired region takes it.", provider.Markup); // the default, said

        provider.Find("#replication-work-mbps").Input("fast");
        provider.Find("#replication-other-mbps").Input("0.01");
        provider.Find("#replication-work-end").Input("7 pm");
        provider.Find("#replication-time-zone").Input("Mars/Olympus");
        await ClickAsync(provider, "[data-testid=replication-limits-save]");

        provider.WaitForAssertion(() => Assert.Equal(4, provider.FindAll(".mud-input-helper-text.mud-input-error").Count));
        var errors = provider.FindAll(".mud-input-helper-text.mud-input-error").Select(e => e.TextContent).ToList();
        Assert.Contains(errors, e => e.StartsWith("Enter the limit during work hours in megabits per second as a number such as 8 or 0.5"));
        Assert.Contains(errors, e => e.StartsWith("A limit at other times is from 0.064 Mbps (8 KB/s)"));
        Assert.Contains(errors, e => e == "Enter a time of day such as 18:00 (24-hour clock).");
        Assert.Contains(errors, e => e.Contains("\"Mars/Olympus\" is not a time zone this server knows"));
        Assert.False(dialog!.Result.IsCompleted);

        // A work-hours limit with no work day is refused at the days.
        provider.Find("#replication-work-mbps").Input("8");
        provider.Find("#replication-other-mbps").Input("");
        provider.Find("#replication-work-end").Input("19:00");
        provider.Find("#replication-time-zone").Input("Europe/Berlin");
        foreach (var day in new[] { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday" }) // the default work days, all off
            await provider.InvokeAsync(() => DayBox(provider, day).Change(false));
        await ClickAsync(provider, "[data-testid=replication-limits-save]");
        provider.WaitForAssertion(() => Assert.Equal("Choose at least one work day, or leave the work-hours limit empty.",
            provider.Find("[data-testid=replication-work-days-error]").TextContent));
        Assert.Empty(provider.FindAll(".mud-input-helper-text.mud-input-error"));
        await using (var db = Database.Factory.CreateDbContext())
            Assert.Equal(0, await db.VaultReplicationLimits.CountAsync()); // nothing saved yet

        await provider.InvokeAsync(() => DayBox(provider, "Monday").Change(true));
        await ClickAsync(provider, "[data-testid=replication-limits-save]");

        provider.WaitForAssertion(() => Assert.True(dialog.Result.IsCompleted));
        var saved = await Context.Services.GetRequiredService<ReplicationLimitsService>().GetAsync(vaultId);
        Assert.True(saved.SetInPortal);
        Assert.Equal("at most 8 Mbps during work hours (Monday, 08:00–19:00 Europe/Berlin), no limit at other times.", saved.InForce.Describe());
    }
}
