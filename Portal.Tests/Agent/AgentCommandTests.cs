using System.Diagnostics;
using System.Text.Json;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;

namespace Portal.Tests.Agent;

/// <summary>
/// The real agent process, as an operator runs it: bad credentials and passphrases are refused in words before anything
/// is written; against a stand-in of the portal's agent endpoints it registers, escrows its key, resumes an unfinished
/// registration, reports its status, runs a backup job sent over the hub, and unregisters.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AgentCommandTests : IDisposable
{
    private const string Passphrase = "correct horse battery staple";
    private readonly string root = Path.Combine(Path.GetTempPath(), "agent-cmd-" + Guid.NewGuid().ToString("N")[..8]);

    public AgentCommandTests()
    {
        Directory.CreateDirectory(root);
        File.WriteAllText(PassphraseFile, Passphrase + "\n");
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string State => Path.Combine(root, "state");
    private string PassphraseFile => Path.Combine(root, "passphrase");

    private string Credentials(MachineCredentialsFile file)
    {
        var path = Path.Combine(root, "vault.portalcredentials");
        File.WriteAllText(path, AgentProcess.Json(file));
        return path;
    }

    private static MachineCredentialsFile Some(string portal = "https://portal.example", DateTimeOffset? expires = null) =>
        new(1, portal, Guid.NewGuid(), "Vault A", Guid.NewGuid(), "c2VjcmV0", expires ?? DateTimeOffset.UtcNow.AddDays(10));

    private Task<(int Code, string Out, string Err)> RegisterAsync(string credentials, string? passphraseFile = null) =>
        AgentProcess.RunAsync("register", "--credentials", credentials, "--passphrase-file", passphraseFile ?? PassphraseFile, "--state", State, "--name", "web-01");

    [Fact]
    public async Task A_missing_credentials_file_is_named_with_where_to_get_one_and_nothing_is_written()
    {
        var (code, _, err) = await RegisterAsync(Path.Combine(root, "nope.portalcredentials"));
        Assert.Equal(1, code);
        Assert.Contains("nope.portalcredentials does not exist", err);
        Assert.Contains("Add a machine", err);
        Assert.DoesNotContain("   at ", err); // no stack trace
        Assert.False(Directory.Exists(State));
    }

    [Fact]
    public async Task A_garbled_credentials_file_is_refused_and_nothing_is_written()
    {
        var path = Path.Combine(root, "garbled.portalcredentials");
        File.WriteAllText(path, "{\"portal\": \"https://x\", \"secret\": ");
        var (code, _, err) = await RegisterAsync(path);
        Assert.Equal(1, code);
        Assert.Contains("is not a machine credentials file", err);
        Assert.False(Directory.Exists(State));
    }

    [Fact]
    public async Task Expired_credentials_are_refused_with_the_date_and_nothing_is_written()
    {
        var (code, _, err) = await RegisterAsync(Credentials(Some(expires: DateTimeOffset.UtcNow.AddDays(-2))));
        Assert.Equal(1, code);
        Assert.Contains("expired on", err);
        Assert.Contains("Download new credentials from the vault's page", err);
        Assert.False(Directory.Exists(State));
    }

    [Fact]
    public async Task A_portal_without_https_is_refused()
    {
        var (code, _, err) = await RegisterAsync(Credentials(Some("http://portal.example")));
        Assert.Equal(1, code);
        Assert.Contains("is not https", err);
        Assert.False(Directory.Exists(State));
    }

    [Fact]
    public async Task A_short_passphrase_is_refused_with_the_rule_and_nothing_is_written()
    {
        var shortFile = Path.Combine(root, "short");
        File.WriteAllText(shortFile, "tiny\n");
        var (code, _, err) = await RegisterAsync(Credentials(Some()), shortFile);
        Assert.Equal(1, code);
        Assert.Contains("is too short: 4 characters; it needs at least 16", err);
        Assert.DoesNotContain("tiny", err);
        Assert.False(Directory.Exists(State));

        var repeated = Path.Combine(root, "repeated");
        File.WriteAllText(repeated, "abababababababababab\n");
        (code, _, err) = await RegisterAsync(Credentials(Some()), repeated);
        Assert.Equal(1, code);
        Assert.Contains("is refused. The passphrase repeats only 2 different characters: anyone could guess it.", err);
        Assert.False(Directory.Exists(State));
    }

    [Fact]
    public async Task A_wrong_command_line_is_a_usage_error_with_exit_code_2()
    {
        var missing = await AgentProcess.RunAsync("register", "--state", State);
        Assert.Equal(2, missing.Code);
        Assert.Contains("missing --credentials FILE", missing.Err);
        var unknown = await AgentProcess.RunAsync("status", "--stat", State);
        Assert.Equal(2, unknown.Code);
        Assert.Contains("unknown option --stat", unknown.Err);
        var help = await AgentProcess.RunAsync("run", "--help");
        Assert.Equal(0, help.Code);
        Assert.Contains("portal-agent run [--state DIR]", help.Out);
        var notRegistered = await AgentProcess.RunAsync("status", "--state", State);
        Assert.Equal(1, notRegistered.Code);
        Assert.Contains("This machine is not registered", notRegistered.Err);
        var memory = await AgentProcess.RunAsync("run", "--state", State, "--upload-memory", "2GB");
        Assert.Equal(2, memory.Code);
        Assert.Contains("--upload-memory (PORTAL_AGENT_UPLOAD_MEMORY_MB) must be a whole number of megabytes from 0 to 1024, not '2GB'", memory.Err);
    }

    [Fact]
    public async Task Registering_keeps_the_keys_owner_only_and_escrows_a_key_that_opens_the_new_repository()
    {
        await using var portal = await FakePortal.StartAsync(Path.Combine(root, "vault"));
        var (code, stdout, err) = await RegisterAsync(Credentials(portal.Credentials()));

        Assert.True(code == 0, err);
        Assert.Contains("systemctl enable --now portal-agent", stdout);
        Assert.Contains(State, stdout);
        Assert.DoesNotContain(Passphrase, stdout + err);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(State));
        Assert.Equal(["agent.json", "agreement.key", "repository.key", "signing.key"], Directory.GetFiles(State).Select(Path.GetFileName).Order());
        Assert.All(Directory.GetFiles(State), f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
        using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(State, "agent.json")));
        Assert.Equal(portal.MachineId, state.RootElement.GetProperty("machineId").GetGuid());
        Assert.Equal("web-01", portal.MachineName);

        // The escrowed key (sealed to the vault's escrow key for this machine) opens the repository; so does the passphrase (disaster recovery).
        Assert.NotNull(portal.EscrowedKey);
        var key = SealedBox.Open(portal.Escrow, Convert.FromBase64String(portal.EscrowedKey.EscrowedKey), AgentContexts.RepositoryKey(portal.MachineId));
        using (var engine = await BackupEngine.OpenWithKeyAsync(portal.Store, new RepositoryKey(key)))
            Assert.Equal(portal.EscrowedKey.RepositoryId, engine.RepositoryId);
        using (var engine = await BackupEngine.OpenAsync(portal.Store, Passphrase))
            Assert.Equal(portal.EscrowedKey.RepositoryId, engine.RepositoryId);

        var again = await RegisterAsync(Credentials(portal.Credentials()));
        Assert.Equal(1, again.Code);
        Assert.Contains("already registered to vault Vault A as web-01", again.Err);
        Assert.Contains("unregister", again.Err);
    }

    [Fact]
    public async Task A_refused_registration_shows_the_portals_words_and_keeps_no_keys()
    {
        await using var portal = await FakePortal.StartAsync(Path.Combine(root, "vault"));
        var (code, _, err) = await RegisterAsync(Credentials(portal.Credentials() with { Secret = "forged" }));
        Assert.Equal(1, code);
        Assert.Contains("The portal refused the registration: These credentials were not issued by this portal.", err);
        Assert.Empty(Directory.GetFiles(State));
    }

    [Fact]
    public async Task A_registration_cut_off_after_the_portal_registered_the_machine_is_finished_by_running_register_again()
    {
        await using var portal = await FakePortal.StartAsync(Path.Combine(root, "vault"));
        portal.FailRepositoryKeyPosts = 1;
        var first = await RegisterAsync(Credentials(portal.Credentials()));
        Assert.Equal(1, first.Code);
        Assert.Contains("registered this machine (web-01, vault Vault A) but its repository step did not finish", first.Err);
        Assert.Contains($"portal-agent register --state {State}' again", first.Err);
        Assert.Null(portal.EscrowedKey);

        var status = await AgentProcess.RunAsync("status", "--state", State);
        Assert.Equal(1, status.Code);
        Assert.Contains("did not finish", status.Out);

        var resumed = await AgentProcess.RunAsync("register", "--state", State); // no credentials, no passphrase: the key is kept
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("Finishing the registration of web-01", resumed.Out);
        Assert.NotNull(portal.EscrowedKey);
    }

    [Fact]
    public async Task Status_says_whether_the_portal_accepts_the_machine_and_unregister_revokes_it_and_deletes_its_keys()
    {
        await using var portal = await FakePortal.StartAsync(Path.Combine(root, "vault"));
        Assert.Equal(0, (await RegisterAsync(Credentials(portal.Credentials()))).Code);

        var accepted = await AgentProcess.RunAsync("status", "--state", State);
        Assert.True(accepted.Code == 0, accepted.Out + accepted.Err);
        Assert.Contains("Machine:      web-01", accepted.Out);
        Assert.Contains("the portal accepts this machine", accepted.Out);

        portal.RevokedBecause = "Revoked by alice on 2026-12-07.";
        var refused = await AgentProcess.RunAsync("status", "--state", State);
        Assert.Equal(1, refused.Code);
        Assert.Contains("the portal refuses this machine: Revoked by alice on 2026-12-07.", refused.Out);

        portal.RevokedBecause = null;
        var gone = await AgentProcess.RunAsync("unregister", "--state", State, "--yes");
        Assert.True(gone.Code == 0, gone.Err);
        Assert.NotNull(portal.RevokedBecause);
        Assert.Empty(Directory.GetFiles(State));
        Assert.Contains("its backups stay in vault Vault A", gone.Out);
    }

    [Fact]
    public async Task The_running_agent_connects_with_its_token_claims_a_backup_and_finishes_it_with_a_tagged_point()
    {
        await using var portal = await FakePortal.StartAsync(Path.Combine(root, "vault"));
        Assert.Equal(0, (await RegisterAsync(Credentials(portal.Credentials()))).Code);
        var source = Path.Combine(root, "www");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "index.html"), "<h1>hello</h1>");
        var jobId = Guid.NewGuid();
        portal.Queue.Enqueue(new AgentJob(new AgentLease(jobId, 1), AgentOperations.Backup, JsonSerializer.Serialize(
            new MachineBackupInput(Guid.NewGuid(), "www", source, [], [], "echo flushed", null, 30, [$"job:{jobId:N}"]), new JsonSerializerOptions(JsonSerializerDefaults.Web))));

        portal.FailFinishes = 1;
        using var agent = Process.Start(AgentProcess.StartInfo("run", "--state", State))!;
        var output = agent.StandardOutput.ReadToEndAsync();
        try
        {
            var outcome = await portal.NextFinishAsync();
            Assert.Equal(2, portal.FinishCalls); // the first Finish failed: the agent called again until answered
            Assert.True(outcome.Status == "Completed", outcome.Message);
            var result = JsonSerializer.Deserialize<MachineBackupResult>(outcome.Result!, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
            Assert.True(result.ApplicationConsistent);
            Assert.Contains(portal.LogLines, l => l == "Info: pre-backup: flushed");
            Assert.NotEmpty(portal.Reports);
            var hello = Assert.Single(portal.Hellos);
            Assert.Equal("web-01", hello.MachineName);
            Assert.Contains(portal.TokenForms, f => f.StartsWith("header /api/agent/hub", StringComparison.Ordinal));
            Assert.Contains(portal.TokenForms, f => f.StartsWith("query /api/agent/hub", StringComparison.Ordinal));

            // A wake makes it claim at once: a restore of what it just backed up.
            var target = Path.Combine(root, "restored");
            portal.Queue.Enqueue(new AgentJob(new AgentLease(Guid.NewGuid(), 1), AgentOperations.Restore, JsonSerializer.Serialize(
                new MachineRestoreInput(portal.MachineId, result.SnapshotId, [], target, "Overwrite"), new JsonSerializerOptions(JsonSerializerDefaults.Web))));
            await portal.WakeAsync();
            var restored = await portal.NextFinishAsync();
            Assert.True(restored.Status == "Completed", restored.Message);
            Assert.Equal("<h1>hello</h1>", File.ReadAllText(Path.Combine(target, "index.html")));
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
        }

        using var engine = await BackupEngine.OpenAsync(portal.Store, Passphrase);
        var point = Assert.Single(await engine.ListSnapshotsAsync());
        Assert.Contains($"job:{jobId:N}", point.Tags);
        var log = await output;
        Assert.Contains("Connected to the portal", log);
        Assert.DoesNotContain(Passphrase, log);
    }

    [Fact]
    public async Task A_refused_first_connect_is_logged_in_one_line_and_retried_until_the_portal_accepts()
    {
        await using var portal = await FakePortal.StartAsync(Path.Combine(root, "vault"));
        Assert.Equal(0, (await RegisterAsync(Credentials(portal.Credentials()))).Code);
        portal.RevokedBecause = "Revoked for a while.";
        var refusedLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var agent = new Process { StartInfo = AgentProcess.StartInfo("run", "--state", State) };
        agent.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lines.Enqueue(e.Data);
            if (e.Data.Contains("Cannot connect to the portal", StringComparison.Ordinal)) refusedLine.TrySetResult(e.Data);
        };
        agent.Start();
        agent.BeginOutputReadLine();
        try
        {
            var line = await refusedLine.Task.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Contains("the portal refuses this machine (401)", line);
            Assert.Contains("next try in", line);
            portal.RevokedBecause = null;
            await portal.Connected.WaitAsync(TimeSpan.FromMinutes(1));
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
        }

        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal)); // no stack trace
    }
}
