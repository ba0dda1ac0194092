using Bunit;
using Portal.Components.Pages.Items;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Protection;

namespace Portal.Tests.Components;

/// <summary>Issue 25: states, kinds and types read as words on every page, never as raw enum names ("InProgress").</summary>
public sealed class EnumWordsTests : PortalComponentTest
{
    [Fact]
    public void The_items_jobs_panel_shows_kind_and_status_in_words()
    {
        var now = DateTime.UtcNow;
        Job[] jobs =
        [
            new() { Id = Guid.NewGuid(), Kind = JobKind.Backup, Status = JobStatus.InProgress, QueuedAt = now },
            new() { Id = Guid.NewGuid(), Kind = JobKind.Restore, Status = JobStatus.CompletedWithWarnings, QueuedAt = now.AddMinutes(-5) },
        ];
        RenderProviders();
        var panel = Context.Render<ItemJobsPanel>(p => p.Add(c => c.ItemId, Guid.NewGuid()).Add(c => c.Jobs, jobs));

        Assert.Equal(["In progress", "Completed with warnings"], panel.FindAll("[data-testid=item-job-status]").Select(c => c.TextContent.Trim()));
        Assert.DoesNotContain("InProgress", panel.Markup);
        Assert.DoesNotContain("CompletedWithWarnings", panel.Markup);
    }

    [Theory]
    [InlineData(nameof(RecoveryPointType.OnDemand), "On demand")]
    [InlineData(nameof(RecoveryPointConsistency.FileSystemConsistent), "File system consistent")]
    [InlineData(nameof(JobKind.Backup), "Backup")]
    [InlineData("ReadFromGRS", "Read from GRS")]
    public void Names_read_as_words(string name, string words) => Assert.Equal(words, EnumWords.Split(name));
}
