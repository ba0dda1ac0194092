using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Portal.Agent.Jobs;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using Portal.Engine.Storage;
using Portal.Tests.Engine;

namespace Portal.Tests.Agent;

/// <summary>
/// The agent's jobs as a machine runs them, without the portal: the repository is a local folder, the channel a recorder.
/// What a user would see: the snapshot and its tags, the scripts' effects and words, the restored files, the outcome.
/// </summary>
public sealed class AgentJobTests : IDisposable
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly EngineTestKit kit = new();
    private readonly Guid machineId = Guid.NewGuid();
    private readonly ECDiffieHellman agreement = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly LocalRepositories repositories;
    private RepositoryKey key = null!;

    public AgentJobTests() => repositories = new LocalRepositories(kit.Store);

    public void Dispose()
    {
        agreement.Dispose();
        kit.Dispose();
    }

    private async Task InitAsync()
    {
        using var engine = await kit.InitAsync();
        key = engine.ExportKey();
    }

    private JobRunner Runner() => new(new JobMachine(machineId, "web-01", key, agreement), repositories);

    private static AgentJob BackupJob(Guid jobId, int attempt, string source, string? pre = null, string? post = null, IReadOnlyList<string>? exclude = null) =>
        new(new AgentLease(jobId, attempt), AgentOperations.Backup, JsonSerializer.Serialize(
            new MachineBackupInput(Guid.NewGuid(), "Web files", source, [], exclude ?? [], pre, post, 30, ["item:1", "scheduled"]), Web));

    private static AgentJob RestoreJob(Guid jobId, MachineRestoreInput input, int attempt = 1) =>
        new(new AgentLease(jobId, attempt), AgentOperations.Restore, JsonSerializer.Serialize(input, Web));

    private async Task<IReadOnlyList<SnapshotInfo>> SnapshotsAsync()
    {
        using var engine = await BackupEngine.OpenWithKeyAsync(kit.Store, key);
        return await engine.ListSnapshotsAsync();
    }

    [Fact]
    public async Task A_backup_runs_the_scripts_around_a_snapshot_tagged_with_its_job()
    {
        await InitAsync();
        kit.Write("site/index.html", "<h1>hello</h1>");
        var marks = Path.Combine(kit.Root, "marks");
        var jobId = Guid.NewGuid();
        var channel = new RecordingChannel();

        var outcome = await Runner().RunAsync(BackupJob(jobId, 1, kit.Source,
            pre: $"echo \"$PORTAL_JOB_ID\" > {marks}.pre; echo dumped > dump.sql; echo pre says hi",
            post: $"rm dump.sql; echo post > {marks}.post"), channel, CancellationToken.None);

        Assert.NotNull(outcome);
        Assert.Equal("Completed", outcome.Status);
        var result = JsonSerializer.Deserialize<MachineBackupResult>(outcome.Result!, Web)!;
        Assert.True(result.ApplicationConsistent);
        Assert.False(result.Reused);
        Assert.Equal(2, result.Files); // index.html and the pre-script's dump
        var snapshot = Assert.Single(await SnapshotsAsync());
        Assert.Equal(result.SnapshotId, snapshot.Id);
        Assert.Contains($"job:{jobId:N}", snapshot.Tags);
        Assert.Contains("item:1", snapshot.Tags);
        Assert.Equal("web-01", snapshot.Host);
        Assert.Equal(jobId.ToString(), File.ReadAllText(marks + ".pre").Trim()); // the script ran with PORTAL_JOB_ID, in the folder
        Assert.True(File.Exists(marks + ".post"));
        Assert.False(File.Exists(Path.Combine(kit.Source, "dump.sql")));
        Assert.Contains(channel.Lines, l => l.Line == "pre-backup: pre says hi");
        Assert.Contains(channel.Lines, l => l.Line.StartsWith($"Recovery point {snapshot.Id[..8]} (application-consistent)", StringComparison.Ordinal));
        Assert.Contains("Recovery point", outcome.Message);
        Assert.NotEmpty(channel.Reports); // the first report, and the final one
    }

    [Fact]
    public async Task A_failing_pre_script_is_named_with_its_exit_code_and_the_point_is_not_application_consistent()
    {
        await InitAsync();
        kit.Write("a.txt", "a");
        var post = Path.Combine(kit.Root, "post-ran");
        var outcome = await Runner().RunAsync(BackupJob(Guid.NewGuid(), 1, kit.Source, pre: "echo cannot flush >&2; exit 3", post: $"touch {post}"),
            new RecordingChannel(), CancellationToken.None);

        Assert.NotNull(outcome);
        Assert.Equal("CompletedWithWarnings", outcome.Status);
        Assert.Contains("The pre-backup script failed with exit code 3.", outcome.Message);
        Assert.Contains("file-system consistent, not application-consistent", outcome.Message);
        var result = JsonSerializer.Deserialize<MachineBackupResult>(outcome.Result!, Web)!;
        Assert.False(result.ApplicationConsistent);
        Assert.Contains(result.Warnings, w => w.Contains("exit code 3", StringComparison.Ordinal));
        Assert.True(File.Exists(post)); // the post-script runs whatever happened
    }

    [Fact]
    public async Task A_missing_folder_fails_in_words_and_makes_no_point()
    {
        await InitAsync();
        var outcome = await Runner().RunAsync(BackupJob(Guid.NewGuid(), 1, "/srv/nowhere-" + Guid.NewGuid().ToString("N")[..6]), new RecordingChannel(), CancellationToken.None);

        Assert.NotNull(outcome);
        Assert.Equal("Failed", outcome.Status);
        Assert.StartsWith("The folder /srv/nowhere-", outcome.Message);
        Assert.Contains("does not exist on this machine", outcome.Message);
        Assert.DoesNotContain("Exception", outcome.Message);
        Assert.Empty(await SnapshotsAsync());
    }

    [Fact]
    public async Task A_second_attempt_reports_the_point_the_first_one_wrote_instead_of_backing_up_again()
    {
        await InitAsync();
        kit.Write("a.txt", "a");
        var jobId = Guid.NewGuid();
        var first = await Runner().RunAsync(BackupJob(jobId, 1, kit.Source), new RecordingChannel(), CancellationToken.None);
        var made = JsonSerializer.Deserialize<MachineBackupResult>(first!.Result!, Web)!;
        kit.Write("b.txt", "changed since"); // a new backup would differ

        var second = await Runner().RunAsync(BackupJob(jobId, 2, kit.Source), new RecordingChannel(), CancellationToken.None);

        Assert.NotNull(second);
        Assert.Equal("Completed", second.Status);
        var reused = JsonSerializer.Deserialize<MachineBackupResult>(second.Result!, Web)!;
        Assert.True(reused.Reused);
        Assert.Equal(made.SnapshotId, reused.SnapshotId);
        Assert.Contains("earlier attempt", second.Message);
        Assert.Single(await SnapshotsAsync());
    }

    [Fact]
    public async Task The_portal_cancelling_ends_the_job_as_cancelled_and_losing_the_lease_ends_it_unfinished()
    {
        await InitAsync();
        kit.Write("a.txt", "a");
        var cancelled = await Runner().RunAsync(BackupJob(Guid.NewGuid(), 1, kit.Source), new RecordingChannel(AgentControl.Cancel), CancellationToken.None);
        Assert.NotNull(cancelled);
        Assert.Equal("Cancelled", cancelled.Status);
        Assert.Contains("the next backup reuses it", cancelled.Message);

        var lost = await Runner().RunAsync(BackupJob(Guid.NewGuid(), 1, kit.Source), new RecordingChannel(AgentControl.Lost), CancellationToken.None);
        Assert.Null(lost);
        Assert.Empty(await SnapshotsAsync());
    }

    private async Task<SnapshotInfo> BackedUpAsync()
    {
        kit.Write("docs/report.txt", "the report");
        kit.Write("docs/notes.txt", "notes");
        var outcome = await Runner().RunAsync(BackupJob(Guid.NewGuid(), 1, kit.Source), new RecordingChannel(), CancellationToken.None);
        Assert.Equal("Completed", outcome!.Status);
        return Assert.Single(await SnapshotsAsync());
    }

    [Fact]
    public async Task A_restore_with_create_copy_keeps_the_existing_file_and_writes_a_dated_copy()
    {
        await InitAsync();
        var point = await BackedUpAsync();
        var target = kit.NewTarget();
        Directory.CreateDirectory(Path.Combine(target, "docs"));
        File.WriteAllText(Path.Combine(target, "docs", "report.txt"), "edited since");

        var outcome = await Runner().RunAsync(RestoreJob(Guid.NewGuid(), new MachineRestoreInput(machineId, point.Id, ["docs"], target, "CreateCopy")),
            new RecordingChannel(), CancellationToken.None);

        Assert.NotNull(outcome);
        Assert.Equal("Completed", outcome.Status);
        Assert.Equal("edited since", File.ReadAllText(Path.Combine(target, "docs", "report.txt")));
        var copy = Assert.Single(Directory.GetFiles(Path.Combine(target, "docs"), "* Copy of report.txt"));
        Assert.Equal("the report", File.ReadAllText(copy));
        Assert.StartsWith($"{point.Time.UtcDateTime:yyyy-MM-dd HH-mm} Copy of", Path.GetFileName(copy));
        var result = JsonSerializer.Deserialize<MachineRestoreResult>(outcome.Result!, Web)!;
        Assert.Equal(target, result.Destination);
    }

    [Fact]
    public async Task A_retried_restore_with_create_copy_keeps_the_copy_the_first_made_and_makes_no_second()
    {
        await InitAsync();
        var point = await BackedUpAsync();
        var target = kit.NewTarget();
        Directory.CreateDirectory(Path.Combine(target, "docs"));
        File.WriteAllText(Path.Combine(target, "docs", "report.txt"), "edited since");
        var input = new MachineRestoreInput(machineId, point.Id, ["docs"], target, "CreateCopy");
        Assert.Equal("Completed", (await Runner().RunAsync(RestoreJob(Guid.NewGuid(), input), new RecordingChannel(), CancellationToken.None))!.Status);
        var first = Assert.Single(Directory.GetFiles(Path.Combine(target, "docs"), "* Copy of report.txt"));

        // The portal's Retry of that restore (as if it had failed part way): a new job, marked as a retry.
        var retried = await Runner().RunAsync(RestoreJob(Guid.NewGuid(), input with { Resume = true }), new RecordingChannel(), CancellationToken.None);

        Assert.Equal("Completed", retried!.Status);
        Assert.Equal(first, Assert.Single(Directory.GetFiles(Path.Combine(target, "docs"), "*Copy of*")));
        Assert.Equal("edited since", File.ReadAllText(Path.Combine(target, "docs", "report.txt")));
        Assert.Equal("the report", File.ReadAllText(first));
    }

    [Fact]
    public async Task A_restore_with_skip_leaves_existing_files_and_counts_them()
    {
        await InitAsync();
        var point = await BackedUpAsync();
        var target = kit.NewTarget();
        Directory.CreateDirectory(Path.Combine(target, "docs"));
        File.WriteAllText(Path.Combine(target, "docs", "report.txt"), "edited since");

        var outcome = await Runner().RunAsync(RestoreJob(Guid.NewGuid(), new MachineRestoreInput(machineId, point.Id, [], target, "Skip")),
            new RecordingChannel(), CancellationToken.None);

        Assert.Equal("Completed", outcome!.Status);
        Assert.Equal("edited since", File.ReadAllText(Path.Combine(target, "docs", "report.txt")));
        Assert.Equal("notes", File.ReadAllText(Path.Combine(target, "docs", "notes.txt")));
        var result = JsonSerializer.Deserialize<MachineRestoreResult>(outcome.Result!, Web)!;
        Assert.Equal(1, result.Skipped);
        Assert.Contains("skipped 1 already there", outcome.Message);
    }

    [Fact]
    public async Task A_restore_without_a_target_goes_back_to_the_original_folder()
    {
        await InitAsync();
        var point = await BackedUpAsync();
        File.Delete(Path.Combine(kit.Source, "docs", "notes.txt"));

        var outcome = await Runner().RunAsync(RestoreJob(Guid.NewGuid(), new MachineRestoreInput(machineId, point.Id[..12], [], null, "Overwrite")),
            new RecordingChannel(), CancellationToken.None);

        Assert.Equal("Completed", outcome!.Status);
        Assert.Equal("notes", File.ReadAllText(Path.Combine(kit.Source, "docs", "notes.txt")));
    }

    [Fact]
    public async Task A_restore_from_another_machine_opens_its_repository_with_the_key_granted_for_this_job_only()
    {
        await InitAsync();
        using var other = new EngineTestKit();
        other.Write("etc/app.conf", "setting=1");
        RepositoryKey otherKey;
        string point;
        using (var engine = await other.InitAsync())
        {
            otherKey = engine.ExportKey();
            point = (await engine.BackupAsync(new BackupRequest(other.Source))).SnapshotId;
        }

        var otherMachine = Guid.NewGuid();
        repositories.Others[otherMachine] = other.Store;
        var jobId = Guid.NewGuid();
        var grant = Convert.ToBase64String(SealedBox.Seal(agreement.ExportSubjectPublicKeyInfo(), otherKey.ToBytes(), AgentContexts.Grant(jobId)));
        var target = kit.NewTarget();

        var outcome = await Runner().RunAsync(RestoreJob(jobId, new MachineRestoreInput(otherMachine, point, [], target, "Overwrite", grant)),
            new RecordingChannel(), CancellationToken.None);
        Assert.Equal("Completed", outcome!.Status);
        Assert.Equal("setting=1", File.ReadAllText(Path.Combine(target, "etc", "app.conf")));

        // The same grant for another job does not open.
        var refused = await Runner().RunAsync(RestoreJob(Guid.NewGuid(), new MachineRestoreInput(otherMachine, point, [], kit.NewTarget(), "Overwrite", grant)),
            new RecordingChannel(), CancellationToken.None);
        Assert.Equal("Failed", refused!.Status);
        Assert.Contains("cannot be opened by this machine's key", refused.Message);
    }

    [Fact]
    public async Task A_restore_of_a_point_that_is_gone_says_to_choose_another()
    {
        await InitAsync();
        var outcome = await Runner().RunAsync(RestoreJob(Guid.NewGuid(), new MachineRestoreInput(machineId, new string('a', 64), [], kit.NewTarget(), "Overwrite")),
            new RecordingChannel(), CancellationToken.None);
        Assert.Equal("Failed", outcome!.Status);
        Assert.Contains("Recovery point aaaaaaaa is not in the machine's repository", outcome.Message);
    }

    /// <summary>Records what the job sends; answers every report with <paramref name="answer"/>.</summary>
    private sealed class RecordingChannel(AgentControl answer = AgentControl.Continue) : IJobChannel
    {
        public ConcurrentQueue<AgentProgress> Reports { get; } = new();
        public ConcurrentQueue<(AgentLogLevel Level, string Line)> Lines { get; } = new();

        public Task<AgentControl> ReportAsync(AgentProgress progress, CancellationToken ct)
        {
            Reports.Enqueue(progress);
            return Task.FromResult(answer);
        }

        public Task LogAsync(AgentLogLevel level, IReadOnlyList<string> lines, CancellationToken ct)
        {
            foreach (var line in lines) Lines.Enqueue((level, line));
            return Task.CompletedTask;
        }
    }

    /// <summary>This machine's repository in a local folder, and other machines' in theirs.</summary>
    private sealed class LocalRepositories(IObjectStore own) : IRepositoryOpener
    {
        public Dictionary<Guid, IObjectStore> Others { get; } = [];

        public Task<BackupEngine> OpenAsync(Guid? sourceMachine, RepositoryKey key, CancellationToken ct) =>
            BackupEngine.OpenWithKeyAsync(sourceMachine is { } m ? Others[m] : own, key, cancellationToken: ct);
    }
}
