using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.Components.Pages.Drills;
using Portal.Features.Drills;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The policy editor's "Restore drill" section and the auditor's printable drill evidence.</summary>
public sealed class DrillComponentTests : ProtectionComponentTest
{
    [Fact]
    public async Task A_contributor_turns_on_drills_for_a_policy_and_they_start_weekly_on_the_whole_point()
    {
        var vault = await CreateVaultAsync("legal");
        await using var db = Database.Factory.CreateDbContext();
        var policy = await db.BackupPolicies.SingleAsync(p => p.VaultId == vault.Id);
        SignIn(TestUsers.WithRoles("Carla", PortalRoles.Contributor));

        var section = RenderPage<PolicyDrillSection>(p => p.Add(c => c.PolicyId, policy.Id));
        section.WaitForAssertion(() => Assert.Single(section.FindAll("[data-testid=policy-drill] input[type=checkbox]")));
        await section.InvokeAsync(() => section.Find("[data-testid=policy-drill] input[type=checkbox]").Change(true));
        await ClickAsync(section, "[data-testid=policy-drill-save]");

        section.WaitForAssertion(() => Assert.True(db.DrillSchedules.AsNoTracking().Any(s => s.PolicyId == policy.Id)));
        var saved = await db.DrillSchedules.AsNoTracking().SingleAsync(s => s.PolicyId == policy.Id);
        Assert.Equal((DrillFrequency.Weekly, DayOfWeek.Sunday, DrillSampleKind.Whole, "Carla"), (saved.Frequency, saved.Day, saved.Sample, saved.UpdatedBy));
    }

    [Fact]
    public async Task A_reader_sees_a_policys_drills_are_off_without_a_way_to_change_them()
    {
        var vault = await CreateVaultAsync("legal");
        await using var db = Database.Factory.CreateDbContext();
        var policy = await db.BackupPolicies.SingleAsync(p => p.VaultId == vault.Id);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var section = RenderPage<PolicyDrillSection>(p => p.Add(c => c.PolicyId, policy.Id));

        section.WaitForAssertion(() => Assert.Contains("Off: the items of this policy are not drilled unless they have their own drill schedule.", section.Markup));
        Assert.Empty(section.FindAll("[data-testid=policy-drill-save]"));
    }

    [Fact]
    public async Task The_evidence_page_lists_each_drill_with_its_point_what_was_verified_the_result_and_who_configured_it()
    {
        var item = await SeedItemAsync(await CreateVaultAsync("legal"), "Contracts", ProtectionState.Protected);
        await using (var db = Database.Factory.CreateDbContext())
        {
            db.RecoveryDrills.Add(new RecoveryDrill
            {
                Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = item.VaultId, SnapshotId = new string('b', 64),
                PointCreatedAt = new DateTime(2026, 12, 1, 2, 0, 0, DateTimeKind.Utc), StartedAt = new DateTime(2026, 12, 1, 3, 0, 0, DateTimeKind.Utc),
                FinishedAt = new DateTime(2026, 12, 1, 3, 1, 0, DateTimeKind.Utc), Result = DrillResult.Passed, FilesVerified = 7, BytesVerified = 7000,
                FilesInPoint = 20, BytesInPoint = 20000, RestoreSeconds = 2, EstimatedFullRestoreSeconds = 5.7, Detail = "fine", RequestedBy = "drill schedule (item)",
                Sample = "7 files at random (7 of 20 files)", ConfiguredBy = "Olga (item, 2026-11-30 10:00 UTC)", RtoTargetSeconds = 3600,
            });
            await db.SaveChangesAsync();
        }

        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<DrillEvidencePage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=evidence-row]")));
        var row = System.Text.RegularExpressions.Regex.Replace(page.Find("[data-testid=evidence-row]").TextContent, @"\s+", " ");
        Assert.Contains("legal / Contracts", row);
        Assert.Contains("bbbbbbbb (2026-12-01 02:00 UTC)", row);
        Assert.Contains("7 of 20 file(s), 7 KB of 20 KB (7 files at random (7 of 20 files))", row);
        Assert.Contains("Passed", row);
        Assert.Contains("1 h 0 min", row);
        Assert.Contains("Olga (item, 2026-11-30 10:00 UTC)", row);
    }
}
