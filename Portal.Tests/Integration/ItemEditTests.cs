using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;
using Portal.Tests.Machines;

namespace Portal.Tests.Integration;

/// <summary>
/// Items can be changed after protection (issue 25): policy, folder, include/exclude patterns and scripts, with the
/// roles checked in the service, every change audited, and overlapping folders warned about.
/// </summary>
public sealed class ItemEditTests : ProtectionHostTest
{
    private string Source(string name, params string[] files)
    {
        var folder = Path.Combine(host.SourceRoot, name);
        Directory.CreateDirectory(folder);
        foreach (var file in files)
            File.WriteAllText(Path.Combine(folder, file), $"contents of {file}");
        return folder;
    }

    private async Task<ItemDetails> ProtectAsync(string name, string folder)
    {
        var (vault, policy) = await NewVaultAsync();
        return await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, name, folder, null, null, Passphrase, Passphrase));
    }

    private async Task<List<AuditEntry>> AuditAsync(string action)
    {
        await using var db = database.Factory.CreateDbContext();
        return await db.AuditEntries.Where(a => a.Action == action).OrderBy(a => a.Id).ToListAsync();
    }

    [Fact]
    public async Task A_contributor_changes_policy_folder_patterns_and_scripts_the_change_is_audited_and_the_next_backup_reads_the_new_folder()
    {
        var item = await ProtectAsync("share", Source("share", "old.txt"));
        var weekly = await host.ActAs(ann).GetRequiredService<PolicyService>().CreateAsync(item.Item.VaultId, "Weekly", PolicyDefinition.Default);
        var moved = Source("moved", "report.docx", "scratch.tmp", "notes.txt");

        var edited = await host.Protection(ann).EditAsync(item.Item.Id, item.Version, new EditItemRequest(weekly.Id, moved + "/",
            ["**/*.docx", "**/*.tmp"], ["**/*.tmp"], new ScriptSettings("echo flushed", null, 60)));

        Assert.Equal((moved, weekly.Id, "Weekly"), (edited.Item.SourcePath, edited.PolicyId, edited.Item.PolicyName));
        Assert.Equal(["**/*.docx", "**/*.tmp"], edited.Include);
        Assert.Equal(["**/*.tmp"], edited.Exclude);
        Assert.Equal(("echo flushed", (string?)null, (int?)60), (edited.Workload!.PreScript, edited.Workload.PostScript, edited.Workload.ScriptTimeoutSeconds));
        var audit = Assert.Single(await AuditAsync(AuditActions.ItemUpdate));
        Assert.Equal(("Ann", "vault/finance/item/share", AuditOutcome.Succeeded), (audit.ActorName, audit.Resource, audit.Outcome));
        Assert.Equal($"policy: DefaultPolicy → Weekly; folder: {item.Item.SourcePath} → {moved}; include: none → **/*.docx, **/*.tmp; " +
                     "exclude: none → **/*.tmp; pre-backup script: none → echo flushed; script timeout: default → 60 s", audit.Detail);

        // Saving the same again changes nothing and writes no audit row.
        await host.Protection(ann).EditAsync(item.Item.Id, edited.Version, new EditItemRequest(weekly.Id, moved,
            ["**/*.docx", "**/*.tmp"], ["**/*.tmp"], new ScriptSettings("echo flushed", "", 60)));
        Assert.Single(await AuditAsync(AuditActions.ItemUpdate));

        // The next backup reads the new folder with the new patterns: only the document.
        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
        var point = Assert.Single((await host.Protection(ann).GetAsync(item.Item.Id))!.RecoveryPoints);
        Assert.Equal(1, point.Files);
        var log = await host.ActAs(ann).GetRequiredService<JobQueries>().LogAsync(job.Id);
        Assert.Contains(log, l => l.Text.Contains("Running the pre-backup script: echo flushed"));
    }

    [Fact]
    public async Task Bad_input_is_refused_field_by_field_in_plain_words_and_nothing_changes()
    {
        var item = await ProtectAsync("share", Source("share", "a.txt"));
        var (_, otherPolicy) = await NewVaultAsync("elsewhere");

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => host.Protection(ann).EditAsync(item.Item.Id, item.Version,
            new EditItemRequest(otherPolicy.Id, "/etc", null, ["../x"], new ScriptSettings("ok", null, 0))));

        Assert.Contains("outside the folders", refused.Errors["SourcePath"]);
        Assert.Contains("..", refused.Errors["Exclude"]);
        Assert.Equal("Choose a policy of vault finance.", refused.Errors["PolicyId"]);
        Assert.Contains("1 to", refused.Errors["ScriptTimeoutSeconds"]);
        var tooLong = await Assert.ThrowsAsync<PortalValidationException>(() => host.Protection(ann).EditAsync(item.Item.Id, item.Version,
            new EditItemRequest(item.PolicyId!.Value, "/" + new string('a', 100_000))));
        Assert.Equal("A folder path has at most 4096 characters.", tooLong.Errors["SourcePath"]);
        var after = (await host.Protection(ann).GetAsync(item.Item.Id))!;
        Assert.Equal((item.Item.SourcePath, item.Version), (after.Item.SourcePath, after.Version));

        // A stale version is refused as a concurrent change, not overwritten.
        await host.Protection(ann).EditAsync(item.Item.Id, item.Version, new EditItemRequest(item.PolicyId!.Value, null, ["*.txt"]));
        await Assert.ThrowsAsync<PortalConflictException>(() =>
            host.Protection(ann).EditAsync(item.Item.Id, item.Version, new EditItemRequest(item.PolicyId!.Value, null, ["*.md"])));
    }

    [Fact]
    public async Task An_operator_changes_the_folder_but_not_the_scripts_and_a_reader_or_help_desk_changes_nothing()
    {
        var item = await ProtectAsync("share", Source("share", "a.txt"));
        var other = Source("other", "b.txt");
        var policy = item.PolicyId!.Value;
        var olga = TestUsers.WithRoles("Olga", PortalRoles.Operator);

        var scripts = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => host.Protection(olga).EditAsync(item.Item.Id, item.Version,
            new EditItemRequest(policy, other, null, null, new ScriptSettings("rm -rf /", null))));
        Assert.Contains("Backup.Contributor", scripts.Message);
        foreach (var role in new[] { PortalRoles.Reader, PortalRoles.RestoreOperator })
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => host.Protection(TestUsers.WithRoles("Rex", role)).EditAsync(item.Item.Id, item.Version,
                new EditItemRequest(policy, other)));
        Assert.Null((await host.Protection(ann).GetAsync(item.Item.Id))!.Workload!.PreScript);

        var edited = await host.Protection(olga).EditAsync(item.Item.Id, item.Version, new EditItemRequest(policy, other));
        Assert.Equal(other, edited.Item.SourcePath);
        Assert.Equal([AuditOutcome.Refused, AuditOutcome.Refused, AuditOutcome.Refused, AuditOutcome.Succeeded],
            (await AuditAsync(AuditActions.ItemUpdate)).Select(a => a.Outcome));
    }

    [Fact]
    public async Task A_machine_item_keeps_its_folder_on_the_machine_and_overlapping_folders_on_the_same_host_are_named()
    {
        var item = await ProtectAsync("share", Source("share", "a.txt"));
        var vaultId = item.Item.VaultId;
        var policy = item.PolicyId!.Value;
        var web = await database.AddMachineAsync(vaultId, "web01", DateTime.UtcNow);
        var data = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vaultId, policy, "data", "/srv/data", MachineId: web.Id));
        var docs = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vaultId, policy, "docs", "/srv/other", MachineId: web.Id));

        // The folder is a path on web01, not on the portal host: no source-root rule, the machine stays.
        var relative = await Assert.ThrowsAsync<PortalValidationException>(() =>
            host.Protection(ann).EditAsync(docs.Item.Id, docs.Version, new EditItemRequest(policy, "srv/data/docs")));
        Assert.Contains("not an absolute path: give the full path of the folder on web01", relative.Errors["SourcePath"]);
        var moved = await host.Protection(ann).EditAsync(docs.Item.Id, docs.Version, new EditItemRequest(policy, "/srv/data/docs/"));
        Assert.Equal(("/srv/data/docs", web.Id), (moved.Item.SourcePath, moved.Item.MachineId));

        // /srv/data over /srv/data/docs on web01 is named both ways; the item being edited is not its own overlap,
        // and the portal host's folders are another host.
        var protection = host.Protection(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        Assert.Equal(["data (vault finance) already protects /srv/data.", "docs (vault finance) protects /srv/data/docs, inside /srv/data."],
            (await protection.OverlappingAsync(web.Id, "/srv/data")).Select(o => o.Warning));
        var around = Assert.Single(await protection.OverlappingAsync(web.Id, "/srv/data/docs/x", exceptItemId: docs.Item.Id));
        Assert.Equal("data (vault finance) protects /srv/data, which contains /srv/data/docs/x.", around.Warning);
        Assert.Equal(["data", "docs"], (await protection.OverlappingAsync(web.Id, "/srv")).Select(o => o.Name));
        Assert.Empty(await protection.OverlappingAsync(web.Id, "/srv/database"));
        Assert.Empty(await protection.OverlappingAsync(null, "/srv/data"));
        Assert.Equal("share (vault finance) already protects " + item.Item.SourcePath + ".",
            Assert.Single(await protection.OverlappingAsync(null, item.Item.SourcePath)).Warning);
        Assert.Equal(data.Item.Id, around.Id);
    }
}
