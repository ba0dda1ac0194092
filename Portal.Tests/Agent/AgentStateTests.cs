using Portal.Agent;
using Portal.Agent.Connection;
using Portal.Agent.State;
using Portal.Engine;
using Portal.Engine.Agents;

namespace Portal.Tests.Agent;

/// <summary>The state folder keeps the machine's secrets owner-only and writes them atomically; credentials files are checked before anything is written.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AgentStateTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "agent-state-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    private const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void The_state_folder_is_created_owner_only_and_every_file_in_it_too()
    {
        var folder = Path.Combine(root, "state");
        var store = StateStore.OpenOrCreate(folder);
        var state = new AgentState(Guid.NewGuid(), Guid.NewGuid(), "Vault A", "web-01", "https://portal.example/", DateTimeOffset.UtcNow, "ZXNjcm93");
        store.SaveState(state);
        var (signing, agreement) = MachineIdentity.NewKeys();
        store.SaveKey(StateStore.SigningKeyFile, signing);
        store.SaveKey(StateStore.AgreementKeyFile, agreement);
        var key = new RepositoryKey(EngineKey());
        store.SaveRepositoryKey(key);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["agent.json", "agreement.key", "repository.key", "signing.key"], files);
        Assert.All(Directory.GetFiles(folder), f => Assert.Equal(Owner, File.GetUnixFileMode(f)));

        var reopened = StateStore.OpenExisting(folder)!;
        Assert.Equal(state, reopened.LoadState());
        Assert.Equal(key.ToBytes(), reopened.LoadRepositoryKey()!.ToBytes());
        using var loaded = reopened.LoadSigningKey();
        Assert.Equal(signing.ExportSubjectPublicKeyInfo(), loaded.ExportSubjectPublicKeyInfo());
        Assert.Contains("BEGIN PRIVATE KEY", File.ReadAllText(Path.Combine(folder, "signing.key"))); // PKCS#8
    }

    [Fact]
    public void A_rewrite_replaces_the_file_whole_and_leaves_no_temporary_file()
    {
        var store = StateStore.OpenOrCreate(Path.Combine(root, "state"));
        store.WriteAtomic("agent.json", "old"u8.ToArray());
        store.WriteAtomic("agent.json", "new content"u8.ToArray());
        Assert.Equal("new content", File.ReadAllText(store.PathOf("agent.json")));
        Assert.Equal(["agent.json"], Directory.GetFiles(store.Folder).Select(Path.GetFileName));
        Assert.Equal(Owner, File.GetUnixFileMode(store.PathOf("agent.json")));
    }

    [Fact]
    public void A_state_folder_others_can_read_is_refused_with_what_to_do()
    {
        var folder = Path.Combine(root, "open");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, (UnixFileMode)Convert.ToInt32("755", 8));
        var e = Assert.Throws<AgentException>(() => StateStore.OpenOrCreate(folder));
        Assert.Contains("can be read by other users (mode 0755)", e.Message);
        Assert.Contains($"chmod 700 {folder}", e.Message);
    }

    [Fact]
    public void The_state_folder_is_the_option_else_the_environment_else_var_lib()
    {
        Assert.Equal(Path.GetFullPath("/tmp/x"), StateStore.Resolve("/tmp/x"));
        var saved = Environment.GetEnvironmentVariable(StateStore.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(StateStore.EnvironmentVariable, "/tmp/from-env");
            Assert.Equal("/tmp/from-env", StateStore.Resolve(null));
            Environment.SetEnvironmentVariable(StateStore.EnvironmentVariable, null);
            Assert.Equal("/var/lib/portal-agent", StateStore.Resolve(null));
        }
        finally
        {
            Environment.SetEnvironmentVariable(StateStore.EnvironmentVariable, saved);
        }
    }

    private static readonly DateTimeOffset Now = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private static byte[] File1(string portal = "https://portal.example", int version = 1, DateTimeOffset? expires = null) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new MachineCredentialsFile(version, portal, Guid.NewGuid(), "Vault A", Guid.NewGuid(), "c2VjcmV0",
            expires ?? Now.AddDays(10)), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));

    [Fact]
    public void A_valid_credentials_file_is_read()
    {
        var file = Credentials.Parse(File1(), "c.portalcredentials", Now);
        Assert.Equal("Vault A", file.VaultName);
        Assert.Equal(1, file.Version);
    }

    [Theory]
    [InlineData("not json at all", "c.portalcredentials is not a machine credentials file")]
    [InlineData("{\"hello\": 1}", "c.portalcredentials is not a machine credentials file")]
    [InlineData("[1,2]", "c.portalcredentials is not a machine credentials file")]
    public void A_garbled_credentials_file_says_so_and_where_to_get_one(string content, string expected)
    {
        var e = Assert.Throws<AgentException>(() => Credentials.Parse(System.Text.Encoding.UTF8.GetBytes(content), "c.portalcredentials", Now));
        Assert.Contains(expected, e.Message);
        Assert.Contains("Add a machine", e.Message);
    }

    [Fact]
    public void Expired_credentials_name_the_date_and_where_to_get_new_ones()
    {
        var e = Assert.Throws<AgentException>(() => Credentials.Parse(File1(expires: Now.AddDays(-1)), "c.portalcredentials", Now));
        Assert.Contains("expired on 2026-12-06 10:00 UTC", e.Message);
        Assert.Contains("Add a machine", e.Message);
    }

    [Fact]
    public void Another_version_of_the_file_is_refused_by_name()
    {
        var e = Assert.Throws<AgentException>(() => Credentials.Parse(File1(version: 2), "c.portalcredentials", Now));
        Assert.Contains("version 2; this agent reads version 1", e.Message);
    }

    [Theory]
    [InlineData("http://portal.example", false)]
    [InlineData("ftp://portal.example", false)]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("https://portal.example", true)]
    public void The_portal_must_be_https_except_on_loopback(string portal, bool accepted)
    {
        if (accepted)
        {
            Assert.Equal(new Uri(portal), Credentials.Parse(File1(portal), "c", Now) is var f ? new Uri(f.Portal) : null);
            return;
        }

        var e = Assert.Throws<AgentException>(() => Credentials.Parse(File1(portal), "c", Now));
        Assert.Contains(portal.StartsWith("http:", StringComparison.Ordinal) ? "is not https" : "is not a web address", e.Message);
    }

    [Fact]
    public void Reconnecting_waits_0_2_5_10_30_60_seconds_then_a_minute_with_jitter()
    {
        var waits = Enumerable.Range(0, 6).Select(i => Backoff.Delay(i, 0.5).TotalSeconds).ToList();
        Assert.Equal([0, 2, 5, 10, 30, 60], waits);
        Assert.Equal(50, Backoff.Delay(6, 0).TotalSeconds, precision: 3);
        Assert.Equal(70, Backoff.Delay(1000, 0.999999).TotalSeconds, precision: 3);
        Assert.All(Enumerable.Range(6, 100), i => Assert.InRange(Backoff.Delay(i).TotalSeconds, 50, 70));
    }

    [Fact]
    public void Upload_limits_follow_work_hours_of_the_machine()
    {
        var settings = new AgentSettings(Guid.NewGuid(), "m", Guid.NewGuid(), "v", UploadKiBPerSecond: 512, OffHoursUploadKiBPerSecond: null,
            WorkDayStart: new TimeOnly(9, 0), WorkDayEnd: new TimeOnly(17, 0), WorkDays: [1, 2, 3, 4, 5]);
        var schedule = UploadLimit.Schedule(settings, TimeZoneInfo.Utc)!;
        Assert.Equal(512 * 1024, schedule.LimitAt(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero))); // a Monday at 10:00
        Assert.Null(schedule.LimitAt(new DateTimeOffset(2026, 12, 7, 18, 0, 0, TimeSpan.Zero)));
        Assert.Null(schedule.LimitAt(new DateTimeOffset(2026, 12, 6, 10, 0, 0, TimeSpan.Zero))); // Sunday
        Assert.Null(UploadLimit.Schedule(new AgentSettings(Guid.NewGuid(), "m", Guid.NewGuid(), "v"), TimeZoneInfo.Utc));
    }

    private static byte[] EngineKey() => System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
}
