using Portal.Engine.Retention;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Policies;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>Backup policies on a real PostgreSQL: Azure's rules, the 9,999-point bound, and reductions that need a second approver.</summary>
public sealed class PolicyServiceTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly System.Security.Claims.ClaimsPrincipal ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);
    private readonly System.Security.Claims.ClaimsPrincipal bob = TestUsers.WithRoles("Bob", PortalRoles.Contributor);
    private VaultDetails vault = null!;

    private static readonly PolicyDefinition LongTerm = new(
        new BackupSchedule(ScheduleFrequency.Weekly, [DayOfWeek.Sunday, DayOfWeek.Wednesday], [new(1, 0), new(13, 0)], "Europe/Berlin"),
        new RetentionPolicy(null,
            new WeeklyRetention(12, [DayOfWeek.Sunday]),
            new MonthlyRetention(24, new DaySelector(Week: 1, Weekday: DayOfWeek.Sunday)),
            new YearlyRetention(10, [1, 7], new DaySelector(Week: DaySelector.LastWeek, Weekday: DayOfWeek.Wednesday))));

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        vault = await As(ann).Vaults().CreateAsync(new CreateVaultRequest("finance", "east"));
    }

    public Task DisposeAsync() => database.DisposeAsync();

    private IServiceProvider As(System.Security.Claims.ClaimsPrincipal user) => TestPortal.For(database, user);

    [Fact]
    public async Task A_new_vault_has_Azures_DefaultPolicy()
    {
        var policy = Assert.Single(await As(ann).Policies().ListAsync(vault.Id));

        Assert.Equal("DefaultPolicy", policy.Name);
        Assert.Equal("daily at 22:30 UTC; daily points 30 days", PolicyService.Describe(policy.Definition));
    }

    [Fact]
    public async Task A_weekly_long_term_policy_is_saved_and_read_back_whole()
    {
        await As(ann).Policies().CreateAsync(vault.Id, "LongTerm", LongTerm);

        var saved = (await As(ann).Policies().GetAsync(vault.Id, "longterm"))!;

        Assert.Equal(PolicyService.Describe(LongTerm), PolicyService.Describe(saved.Definition));
        Assert.Equal([DayOfWeek.Sunday, DayOfWeek.Wednesday], saved.Definition.Schedule.Days);
        Assert.Equal([1, 7], saved.Definition.Retention.Yearly!.InMonths);
    }

    public static TheoryData<string, PolicyDefinition, string> InvalidPolicies() => new()
    {
        { "Daily", PolicyDefinition.Default with { Retention = new(DailyDays: 6) }, "7 to 9,999 days" },
        { "Times", PolicyDefinition.Default with { Schedule = PolicyDefinition.Default.Schedule with { Times = [new(1, 0), new(2, 0), new(3, 0), new(4, 0)] } }, "one to three" },
        { "TimeZone", PolicyDefinition.Default with { Schedule = PolicyDefinition.Default.Schedule with { TimeZoneId = "Mars/Olympus" } }, "not known" },
        { "Daily", LongTerm with { Retention = LongTerm.Retention with { DailyDays = 30 } }, "weekly schedule has no daily points" },
        { "Weekly", LongTerm with { Retention = LongTerm.Retention with { Weekly = new(12, [DayOfWeek.Monday]) } }, "days the schedule backs up" },
        { "Weekly", LongTerm with { Retention = LongTerm.Retention with { Weekly = new(3, [DayOfWeek.Sunday]) } }, "4 to 5,163 weeks" },
        { "Monthly", PolicyDefinition.Default with { Retention = new(30, Monthly: new(12, new DaySelector(DayOfMonth: 30))) }, "1 to 28" },
        { "Yearly", PolicyDefinition.Default with { Retention = new(30, Yearly: new(5, [], new DaySelector(DayOfMonth: 1))) }, "month(s)" },
        { "Retention", PolicyDefinition.Default with
            {
                Schedule = PolicyDefinition.Default.Schedule with { Times = [new(6, 0), new(12, 0), new(18, 0)] },
                Retention = new(DailyDays: 4000),
            }, "would keep up to 12,00" },
    };

    [Theory]
    [MemberData(nameof(InvalidPolicies))]
    public async Task Invalid_policies_are_refused_at_the_field_with_the_rule(string field, PolicyDefinition definition, string expected)
    {
        var error = await Assert.ThrowsAsync<PortalValidationException>(() => As(ann).Policies().CreateAsync(vault.Id, "Bad", definition));

        Assert.Contains(expected, error.Errors[field]);
        Assert.Single(await As(ann).Policies().ListAsync(vault.Id));
    }

    [Fact]
    public async Task Extending_retention_applies_at_once_and_reducing_it_waits_for_a_second_contributor()
    {
        var policy = (await As(ann).Policies().GetAsync(vault.Id, "DefaultPolicy"))!;

        var extended = await As(ann).Policies().UpdateAsync(policy.Id, policy.Version, PolicyDefinition.Default with { Retention = new(DailyDays: 90) });
        Assert.False(extended.ApprovalRequested);
        Assert.Equal(90, (await As(ann).Policies().GetAsync(vault.Id, "DefaultPolicy"))!.Definition.Retention.DailyDays);

        var current = (await As(ann).Policies().GetAsync(vault.Id, "DefaultPolicy"))!;
        var reduced = await As(ann).Policies().UpdateAsync(current.Id, current.Version, PolicyDefinition.Default with { Retention = new(DailyDays: 14) });
        Assert.True(reduced.ApprovalRequested);
        Assert.Equal(90, (await As(ann).Policies().GetAsync(vault.Id, "DefaultPolicy"))!.Definition.Retention.DailyDays);

        var request = Assert.Single(await As(bob).Approvals().ListAsync(), r => r.Status == ApprovalStatus.Pending);
        Assert.Contains("Reduce the retention of policy DefaultPolicy in vault finance", request.Summary);
        await As(bob).Approvals().ApproveAsync(request.Id);

        var after = (await As(ann).Policies().GetAsync(vault.Id, "DefaultPolicy"))!;
        Assert.Equal(14, after.Definition.Retention.DailyDays);
        Assert.Equal("Ann (approved by Bob)", after.UpdatedBy);
        var log = (await As(ann).Audit().QueryAsync(new AuditQuery(Action: "Policy."))).Items;
        Assert.Contains(log, a => a.Action == AuditActions.PolicyReduceRetention && a.ActorName == "Bob" && a.Detail!.Contains("Requested by Ann"));
    }

    [Fact]
    public async Task Preview_and_save_agree_on_approval_and_preview_refuses_what_save_refuses()
    {
        // Regression (issue 25): with no recovery point yet, Preview said nothing would be removed while Save asked for approval.
        var policy = (await As(ann).Policies().GetAsync(vault.Id, "DefaultPolicy"))!;
        var shorter = PolicyDefinition.Default with { Retention = new(DailyDays: 14) };
        var longer = PolicyDefinition.Default with { Retention = new(DailyDays: 90) };

        var previewShorter = await As(ann).Policies().PreviewAsync(policy.Id, shorter);
        var previewLonger = await As(ann).Policies().PreviewAsync(policy.Id, longer);
        var invalid = await Assert.ThrowsAsync<PortalValidationException>(() => As(ann).Policies().PreviewAsync(policy.Id, PolicyDefinition.Default with { Retention = new(DailyDays: 3) }));

        Assert.Equal((0, true), (previewShorter.Removed, previewShorter.NeedsApproval));
        Assert.False(previewLonger.NeedsApproval);
        Assert.Contains("7 to 9,999 days", invalid.Errors["Daily"]);
        Assert.True((await As(ann).Policies().UpdateAsync(policy.Id, policy.Version, shorter)).ApprovalRequested);
        Assert.False((await As(ann).Policies().UpdateAsync(policy.Id, policy.Version, longer)).ApprovalRequested);
    }

    [Fact]
    public async Task Moving_the_monthly_day_counts_as_a_reduction_because_todays_monthly_points_would_go()
    {
        var monthly = PolicyDefinition.Default with { Retention = new(30, Monthly: new(12, new DaySelector(DayOfMonth: 1))) };
        var created = await As(ann).Policies().CreateAsync(vault.Id, "Monthly", monthly);

        var moved = await As(ann).Policies().UpdateAsync(created.Id, created.Version,
            monthly with { Retention = monthly.Retention with { Monthly = new(12, new DaySelector(DayOfMonth: 15)) } });

        Assert.True(moved.ApprovalRequested);
    }

    [Fact]
    public async Task Names_are_unique_per_vault_ignoring_case_and_stale_edits_are_refused()
    {
        var error = await Assert.ThrowsAsync<PortalValidationException>(() => As(ann).Policies().CreateAsync(vault.Id, "defaultpolicy", PolicyDefinition.Default));
        Assert.Contains("already has a policy", error.Errors["Name"]);

        var policy = (await As(ann).Policies().GetAsync(vault.Id, "DefaultPolicy"))!;
        await As(ann).Policies().UpdateAsync(policy.Id, policy.Version, PolicyDefinition.Default with { Retention = new(DailyDays: 60) });
        var stale = await Assert.ThrowsAsync<PortalConflictException>(() =>
            As(bob).Policies().UpdateAsync(policy.Id, policy.Version, PolicyDefinition.Default with { Retention = new(DailyDays: 45) }));
        Assert.Contains("was changed by Ann", stale.Message);
    }
}
