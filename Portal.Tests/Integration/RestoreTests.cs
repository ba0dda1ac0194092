using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Engine.Replication;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Restore;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>Restores as help-desk staff run them: real vault data, real folders, roles and destination rules.</summary>
public sealed class RestoreTests : ProtectionHostTest
{
    private readonly System.Security.Claims.ClaimsPrincipal helen = TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator);
    private string source = "";
    private Guid itemId, vaultId;

    private RestoreService Restores(System.Security.Claims.ClaimsPrincipal user) => host.ActAs(user).GetRequiredService<RestoreService>();

    /// <summary>A protected share with two backups; returns the second (latest) point.</summary>
    private async Task<RestorePoint> ProtectAndBackUpAsync(StorageRedundancy redundancy = StorageRedundancy.LRS)
    {
        var (vault, policy) = await NewVaultAsync("finance", redundancy);
        vaultId = vault.Id;
        source = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(Path.Combine(source, "slides"));
        File.WriteAllText(Path.Combine(source, "slides", "q3.pptx"), "quarter three, version 1");
        File.WriteAllText(Path.Combine(source, "slides", "q4.pptx"), "quarter four");
        File.WriteAllText(Path.Combine(source, "notes.txt"), "plain notes");
        itemId = (await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", source, null, null, Passphrase, Passphrase))).Item.Id;
        await BackUpAsync();
        File.WriteAllText(Path.Combine(source, "slides", "q3.pptx"), "quarter three, version 2");
        await BackUpAsync();
        return (await Restores(helen).ListPointsAsync(itemId))[0];
    }

    private async Task BackUpAsync()
    {
        var job = await host.Protection(ann).BackUpNowAsync(itemId, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
    }

    [Fact]
    public async Task A_restore_operator_browses_searches_previews_and_sees_what_changed_since_the_previous_point()
    {
        var point = await ProtectAndBackUpAsync();
        var restores = Restores(helen);

        var top = await restores.BrowseAsync(itemId, point.Id, null);
        Assert.Equal(["slides", "notes.txt"], top.Items.Select(e => e.Name)); // folders first
        var changed = await restores.ChangedSincePreviousAsync(itemId, point.Id);
        var slides = await restores.BrowseAsync(itemId, point.Id, "slides", changed: changed);
        Assert.Equal([("q3.pptx", true), ("q4.pptx", false)], slides.Items.Select(e => (e.Name, e.ChangedSincePrevious)));
        Assert.Contains("slides", changed);
        var first = (await restores.ListPointsAsync(itemId))[1];
        Assert.Empty(await restores.ChangedSincePreviousAsync(itemId, first.Id)); // the first point: nothing is marked "changed"

        Assert.Equal(["slides/q3.pptx", "slides/q4.pptx"], (await restores.SearchAsync(itemId, point.Id, "*.PPTX")).Items.Select(e => e.Path)); // any case
        var limited = await restores.SearchAsync(itemId, point.Id, "*", limit: 2);
        Assert.True(limited.More);
        Assert.Equal(2, limited.Items.Count);
        Assert.Empty((await restores.SearchAsync(itemId, point.Id, "no-such-file")).Items);
        Assert.Equal(["notes.txt"], (await restores.SearchAsync(itemId, point.Id, "NoTeS")).Items.Select(e => e.Path));
        Assert.Equal("quarter three, version 2", await restores.PreviewAsync(itemId, point.Id, "slides/q3.pptx"));
        var hostile = await Assert.ThrowsAsync<PortalValidationException>(() => restores.BrowseAsync(itemId, point.Id, "../../etc"));
        Assert.Contains("..", hostile.Errors["Path"]);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Restores(TestUsers.WithRoles("Rita", PortalRoles.Reader)).BrowseAsync(itemId, point.Id, null));
    }

    [Fact]
    public async Task A_restore_operator_restores_yesterdays_version_next_to_todays_as_an_Azure_named_copy_and_it_is_audited()
    {
        var point = await ProtectAndBackUpAsync();
        var first = (await Restores(helen).ListPointsAsync(itemId))[1];
        File.Delete(Path.Combine(source, "notes.txt"));

        var request = new FileRestoreRequest(itemId, first.Id, ["slides/q3.pptx", "notes.txt"], RestoreDestination.OriginalLocation, null, RestoreConflictOption.CreateCopy);
        var plan = await Restores(helen).PlanAsync(request);
        Assert.Equal(2, plan.Files);
        Assert.StartsWith("Restore 2 selected items (2 files", plan.Summary);
        Assert.Contains($"to {source}", plan.Summary);
        var job = await Restores(helen).StartAsync(request);
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Contains($"Restored 2 files (", done.Message);
        Assert.Contains($"to {source}, 1 of them as a copy next to the file already there; skipped 0 already there; 0 failed.", done.Message);
        Assert.Equal("plain notes", File.ReadAllText(Path.Combine(source, "notes.txt"))); // the deleted file is back under its own name
        Assert.Equal("quarter three, version 2", File.ReadAllText(Path.Combine(source, "slides", "q3.pptx"))); // today's is untouched
        var copy = Path.Combine(source, "slides", $"{first.CreatedAt:yyyy-MM-dd HH-mm} Copy of q3.pptx");
        Assert.Equal("quarter three, version 1", File.ReadAllText(copy));
        // The log says where the files went and names the copy (the wizard's result shows these).
        var (destinations, copies) = RestoreReport.Read(await host.ActAs(helen).GetRequiredService<JobQueries>().LogAsync(job.Id));
        Assert.Equal([$"{source}/slides/q3.pptx", $"{source}/notes.txt"], destinations);
        Assert.Equal([copy], copies);
        Assert.NotEqual(point.Id, first.Id);

        await using var db = database.Factory.CreateDbContext();
        var entry = await db.AuditEntries.SingleAsync(a => a.Action == AuditActions.RestoreStart);
        Assert.Equal("Helen", entry.ActorName);
        Assert.Equal("vault/finance/item/share", entry.Resource);
        Assert.Contains(first.SnapshotId[..8], entry.Detail);
        Assert.Contains(source, entry.Detail);
    }

    /// <summary>A restore that failed, as the pipeline records it (its input kept for a retry).</summary>
    private async Task<Job> FailedRestoreAsync(FileRestoreRequest request, string target)
    {
        await using var db = database.Factory.CreateDbContext();
        var job = new Job
        {
            Id = Guid.CreateVersion7(), Kind = JobKind.Restore, Status = JobStatus.Failed, VaultId = vaultId, VaultName = "finance", ItemId = itemId,
            Subject = $"share → {target}", StartedBy = "Helen", QueuedAt = DateTime.UtcNow, HeartbeatAt = DateTime.UtcNow, EndedAt = DateTime.UtcNow,
            Message = "The restore failed: the target's disk was full.", Operation = "restore-files",
            Input = Portal.Features.Jobs.Pipeline.JobHandler<FileRestoreInput>.Serialize(new FileRestoreInput(request, target, 24)),
        };
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job;
    }

    [Fact]
    public async Task Retry_runs_a_failed_restore_again_as_it_was_asked_by_someone_allowed_to_restore_it_that_way_and_is_audited()
    {
        await ProtectAndBackUpAsync();
        var first = (await Restores(helen).ListPointsAsync(itemId))[1]; // q3 was "version 1": today's file differs, so a copy is made
        var asCopy = new FileRestoreRequest(itemId, first.Id, ["slides/q3.pptx"], RestoreDestination.OriginalLocation, null, RestoreConflictOption.CreateCopy);
        var failed = await FailedRestoreAsync(asCopy, source);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Restores(TestUsers.WithRoles("Rita", PortalRoles.Reader)).RetryAsync(failed.Id));
        var retry = await Restores(helen).RetryAsync(failed.Id);

        Assert.NotEqual(failed.Id, retry.Id);
        Assert.Equal((JobKind.Restore, itemId, $"share → {source}", "Helen"), (retry.Kind, retry.ItemId, retry.Subject, retry.StartedBy));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(retry.Id, j => j.Status.IsFinished())).Status);
        var slides = Directory.GetFiles(Path.Combine(source, "slides")).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(3, slides.Count); // q3.pptx kept, its copy next to it, q4.pptx
        Assert.Contains(slides, f => f != "q3.pptx" && f!.Contains("q3") && File.ReadAllText(Path.Combine(source, "slides", f)) == "quarter three, version 1");

        // Someone's failed overwrite of the original files: a Restore.Operator may not repeat it, a Backup.Operator may.
        var overwrite = await FailedRestoreAsync(asCopy with { Conflict = RestoreConflictOption.Overwrite }, source);
        var refused = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Restores(helen).RetryAsync(overwrite.Id));
        Assert.StartsWith("You can't overwrite files at the original location", refused.Message);
        var again = await Assert.ThrowsAsync<PortalConflictException>(() => Restores(helen).RetryAsync(retry.Id));
        Assert.Equal("Only a failed restore can be retried: this one is completed.", again.Message);

        await using var db = database.Factory.CreateDbContext();
        var audited = await db.AuditEntries.Where(a => a.Action == AuditActions.RestoreRetry).OrderBy(a => a.Id).ToListAsync();
        Assert.Equal([AuditOutcome.Refused, AuditOutcome.Succeeded, AuditOutcome.Refused, AuditOutcome.Refused], audited.Select(a => a.Outcome));
        Assert.StartsWith($"retry of job {failed.Id}: point ", audited[1].Detail);
        Assert.Equal("Helen", audited[1].ActorName);
    }

    /// <summary>
    /// Issue 25 (session 16): retrying a partly done "keep as copies" restore made a second copy ("… Copy of q3 (2).pptx") of
    /// every file the failed attempt had already restored. A retry keeps what is already there with the point's size and
    /// content (the earlier attempt's copies, and files that were never changed) and restores only the rest.
    /// </summary>
    [Fact]
    public async Task Retrying_a_partly_done_restore_as_copies_restores_only_what_is_missing_and_makes_no_second_copy()
    {
        await ProtectAndBackUpAsync();
        var first = (await Restores(helen).ListPointsAsync(itemId))[1]; // q3 "version 1", q4 and notes.txt as today
        var slides = Path.Combine(source, "slides");
        var request = new FileRestoreRequest(itemId, first.Id, ["slides", "notes.txt"], RestoreDestination.OriginalLocation, null, RestoreConflictOption.CreateCopy);
        // The first attempt restores slides/ (copies next to q3 and q4), then fails at notes.txt, leaving no notes.txt (the
        // engine removes a file it could not finish): run it for real, then record it as that failure.
        File.Delete(Path.Combine(source, "notes.txt"));
        var attempt = await Restores(helen).StartAsync(request);
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(attempt.Id, j => j.Status.IsFinished())).Status);
        File.Delete(Path.Combine(source, "notes.txt"));
        await using (var db = database.Factory.CreateDbContext())
            await db.Jobs.Where(j => j.Id == attempt.Id).ExecuteUpdateAsync(x => x.SetProperty(j => j.Status, JobStatus.Failed)
                .SetProperty(j => j.Message, "Writing to the share failed: No space left on device."));
        var afterAttempt = Directory.GetFiles(slides).Select(Path.GetFileName).Order().ToList();
        var copyOfQ3 = $"{first.CreatedAt:yyyy-MM-dd HH-mm} Copy of q3.pptx";
        Assert.Equal(new[] { "q3.pptx", "q4.pptx", copyOfQ3, $"{first.CreatedAt:yyyy-MM-dd HH-mm} Copy of q4.pptx" }.Order(), afterAttempt);
        var inodes = afterAttempt.ToDictionary(f => f!, f => Portal.Engine.Platform.Native.TryLStat(Path.Combine(slides, f!))!.Value.Inode);

        var retry = await Restores(helen).RetryAsync(attempt.Id);
        var done = await host.WaitForJobAsync(retry.Id, j => j.Status.IsFinished());

        Assert.True(done.Status == JobStatus.Completed, $"{done.Status}: {done.Message}");
        Assert.Equal(afterAttempt, Directory.GetFiles(slides).Select(Path.GetFileName).Order().ToList()); // no "(2)" copies
        foreach (var (file, inode) in inodes)
            Assert.Equal(inode, Portal.Engine.Platform.Native.TryLStat(Path.Combine(slides, file))!.Value.Inode); // kept, not rewritten
        Assert.Equal("plain notes", File.ReadAllText(Path.Combine(source, "notes.txt"))); // what the attempt missed is restored
        Assert.Equal("quarter three, version 2", File.ReadAllText(Path.Combine(slides, "q3.pptx")));
        Assert.Equal("quarter three, version 1", File.ReadAllText(Path.Combine(slides, copyOfQ3)));
        Assert.StartsWith($"Restored 1 file (11 B) to {source}; kept 2 already restored (same size and content); 1 of the 3 is a copy next to the file already there; "
            + "skipped 0 already there; 0 failed.", done.Message);
        var (_, copies) = RestoreReport.Read(await host.ActAs(helen).GetRequiredService<JobQueries>().LogAsync(retry.Id));
        Assert.Equal([$"{source}/slides/{copyOfQ3}"], copies); // the result names the copy the help-desk person will find
    }

    [Fact]
    public async Task Destination_rules_hold_for_every_role()
    {
        var point = await ProtectAndBackUpAsync();
        var overwrite = new FileRestoreRequest(itemId, point.Id, [], RestoreDestination.OriginalLocation, null, RestoreConflictOption.Overwrite);
        var denied = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Restores(helen).StartAsync(overwrite));
        Assert.Contains("Backup.Operator", denied.Message);
        await Restores(TestUsers.WithRoles("Olga", PortalRoles.Operator)).PlanAsync(overwrite); // allowed for operators

        var outside = await Assert.ThrowsAsync<PortalValidationException>(() => Restores(helen).StartAsync(
            overwrite with { Destination = RestoreDestination.AlternateLocation, AlternatePath = "/etc/portal", Conflict = RestoreConflictOption.Skip }));
        Assert.Contains("outside the folders restores may write to", outside.Errors["AlternatePath"]);
        var relative = await Assert.ThrowsAsync<PortalValidationException>(() => Restores(helen).PlanAsync(
            overwrite with { Destination = RestoreDestination.AlternateLocation, AlternatePath = "restores/x", Conflict = RestoreConflictOption.Skip }));
        Assert.Contains("full path", relative.Errors["AlternatePath"]);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Restores(TestUsers.WithRoles("Rita", PortalRoles.Reader)).PlanAsync(
            overwrite with { Conflict = RestoreConflictOption.CreateCopy }));
        await using var db = database.Factory.CreateDbContext();
        Assert.Equal(0, await db.Jobs.CountAsync(j => j.Kind == JobKind.Restore));
        // Helen's overwrite is a refused authorization (a security event); the folders outside the roots are bad input, shown at the field only.
        Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.Action == AuditActions.RestoreStart && a.Outcome == AuditOutcome.Refused));
    }

    [Fact]
    public async Task A_folder_restored_to_an_alternate_folder_with_skip_keeps_what_is_there()
    {
        var point = await ProtectAndBackUpAsync();
        var target = Path.Combine(host.RestoreRoot, "ticket-1234");
        Directory.CreateDirectory(Path.Combine(target, "slides"));
        File.WriteAllText(Path.Combine(target, "slides", "q4.pptx"), "already here");

        var job = await Restores(helen).StartAsync(new FileRestoreRequest(itemId, point.Id, ["slides"], RestoreDestination.AlternateLocation, target, RestoreConflictOption.Skip));
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Contains("Restored 1 file (", done.Message);
        Assert.Contains("skipped 1 already there", done.Message);
        Assert.Equal("already here", File.ReadAllText(Path.Combine(target, "slides", "q4.pptx")));
        Assert.Equal("quarter three, version 2", File.ReadAllText(Path.Combine(target, "slides", "q3.pptx")));
        Assert.False(File.Exists(Path.Combine(target, "notes.txt")));
    }

    [Fact]
    public async Task A_disk_image_restored_as_sparse_files_takes_only_the_space_of_its_data()
    {
        await ProtectAndBackUpAsync();
        var image = new byte[4 * 1024 * 1024]; // 1 MiB of data between zeros, 2 MiB of zeros at the end
        Portal.Tests.Engine.EngineTestKit.Random(1024 * 1024, 7).CopyTo(image, 1024 * 1024);
        File.WriteAllBytes(Path.Combine(source, "disk.img"), image);
        await BackUpAsync();
        var point = (await Restores(helen).ListPointsAsync(itemId))[0];
        var target = Path.Combine(host.RestoreRoot, "ticket-5678");
        var request = new FileRestoreRequest(itemId, point.Id, ["disk.img"], RestoreDestination.AlternateLocation, target, RestoreConflictOption.Skip, Sparse: true);

        Assert.Contains("blocks of zeros are left out as holes", (await Restores(helen).PlanAsync(request)).Summary);
        var done = await host.WaitForJobAsync((await Restores(helen).StartAsync(request)).Id, j => j.Status.IsFinished());

        Assert.Equal(JobStatus.Completed, done.Status);
        var restored = Path.Combine(target, "disk.img");
        Assert.Equal(image, File.ReadAllBytes(restored));
        var (firstHole, allocated) = Portal.Tests.Engine.EngineTestKit.Holes(restored);
        Assert.Equal(0, firstHole);
        Assert.True(allocated < 2 * 1024 * 1024, $"{allocated} bytes allocated for 1 MiB of data");
    }

    [Fact]
    public async Task With_the_primary_region_down_a_GRS_vault_lists_and_restores_its_points_from_the_secondary()
    {
        var point = await ProtectAndBackUpAsync(StorageRedundancy.GRS);
        var stores = host.Services.GetRequiredService<RegionStores>();
        await new RegionReplicator(stores.Vault(vaultId, "east"), stores.Vault(vaultId, "west"), TimeProvider.System).ReplicateAsync();
        Assert.Equal(["east", "west"], (await Restores(helen).ListPointsAsync(itemId))[0].Regions);

        foreach (var replica in Directory.GetDirectories(Path.Combine(root, "regions", "east")))
            Directory.Delete(replica, recursive: true); // the primary region is gone

        var points = await Restores(helen).ListPointsAsync(itemId);
        Assert.All(points, p => Assert.Equal(["west"], p.Regions));
        var primary = await Assert.ThrowsAsync<PortalConflictException>(() => Restores(helen).BrowseAsync(itemId, point.Id, null));
        Assert.Contains("secondary region west", primary.Message);
        var target = Path.Combine(host.RestoreRoot, "from-west");
        var job = await Restores(helen).StartAsync(new FileRestoreRequest(itemId, point.Id, [], RestoreDestination.AlternateLocation, target, RestoreConflictOption.CreateCopy, "west"));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
        Assert.Equal("quarter three, version 2", File.ReadAllText(Path.Combine(target, "slides", "q3.pptx")));
    }
}
