using System.Diagnostics;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Portal.Data;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Workloads;
using Portal.Features.Identity;
using Portal.Features.Regions;
using Portal.Features.Vaults;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Features.BackupCenter;
using Portal.Features.Reports;

// Seeds a fresh database with 20 vaults, 10,000 backup items and 100,000 jobs, then times the first page of the
// items and jobs lists as the portal's services run them (server time: query + materialisation), and the time
// from a job progress report to the page's notifier, in this instance and in another one (PostgreSQL NOTIFY).
// With the argument "pages" (./portal.sh bench-pages) it times the main pages of the real portal process instead.
var server = Environment.GetEnvironmentVariable("PORTAL_BENCH_PG")
             ?? throw new InvalidOperationException("PORTAL_BENCH_PG is not set: run ./portal.sh bench-lists.");
var keep = false; // "seed" or PORTAL_BENCH_DB: leave the database for EXPLAIN ANALYZE
// PORTAL_BENCH_DB: an already seeded database (from the "seed" argument) instead of a fresh one.
var reuse = Environment.GetEnvironmentVariable("PORTAL_BENCH_DB");
var database = reuse ?? "portal_bench_" + Guid.NewGuid().ToString("N")[..8];
var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
const int Vaults = 20, Items = 10_000, Jobs = 100_000, PointsPerItem = 30;

var services = new ServiceCollection();
services.AddLogging(l =>
{
    l.SetMinimumLevel(LogLevel.Warning);
    if (args.Contains("sql")) // every SQL command with its duration (EF Core's command log)
        l.AddSimpleConsole(o => o.SingleLine = true).AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Information);
});
services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
{
    ["ConnectionStrings:Portal"] = connectionString,
    ["Protection:KeyRingPath"] = Path.Combine(Path.GetTempPath(), database + "-keys"),
}).Build());
services.AddDbContextFactory<PortalDbContext>(o => o.UseNpgsql(connectionString));
services.AddSingleton(TimeProvider.System);
services.AddSingleton<ICurrentUser>(new Reader());
services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new StorageOptions { Regions = [new RegionOptions { Name = "east", Replicas = [new ReplicaOptions { Path = "/tmp/unused" }] }] }));
services.AddSingleton<RegionCatalog>();
services.AddSingleton<RegionStores>();
services.AddPortalAudit();
services.AddPortalApprovals();
services.AddPortalVaults();
Portal.Features.Policies.PoliciesServiceCollectionExtensions.AddPortalPolicies(services);
services.AddPortalJobs();
services.AddPortalProtection();
services.AddPortalWorkloads(); // ProtectionService needs the database workload
services.AddSingleton<Portal.Features.Replication.ReplicationStatus>();
services.AddPortalBackupCenter();
await using var provider = services.BuildServiceProvider();

var factory = provider.GetRequiredService<IDbContextFactory<PortalDbContext>>();
await using (var db = await factory.CreateDbContextAsync())
    await db.Database.MigrateAsync();
try
{
    if (reuse is null)
    {
        var seed = Stopwatch.StartNew();
        await SeedAsync(connectionString);
        Console.WriteLine($"seeded {Vaults} vaults, {Items:N0} items, {Items * PointsPerItem:N0} recovery points, {Jobs:N0} jobs in {seed.Elapsed.TotalSeconds:F1} s");
    }
    else
    {
        keep = true;
    }

    if (args.Contains("sql"))
    {
        using var sqlScope = provider.CreateScope();
        var home = sqlScope.ServiceProvider.GetRequiredService<BackupCenterService>();
        await home.SummarizeAsync();
        Console.WriteLine("---- Backup center summary, warm:");
        await home.SummarizeAsync();
        Console.WriteLine("---- Backup center charts, warm:");
        await home.TrendsAsync();
        return;
    }

    if (args.Contains("seed"))
    {
        Console.WriteLine($"kept database {database} for experiments (drop it yourself)");
        keep = true;
        return;
    }

    if (args.Contains("pages"))
    {
        await PageTimings.RunAsync(connectionString); // issue 25: the main pages' server render time on this database
        return;
    }

    if (args.Contains("profile"))
    {
        await ProfileAsync(provider); // the Backup center's and the reports' service calls, one by one
        return;
    }

    using var scope = provider.CreateScope();
    var protection = scope.ServiceProvider.GetRequiredService<ProtectionService>();
    var jobs = scope.ServiceProvider.GetRequiredService<JobQueries>();
    Guid vaultId, itemId;
    await using (var db = await factory.CreateDbContextAsync())
    {
        vaultId = await db.Vaults.OrderBy(v => v.Name).Select(v => v.Id).FirstAsync();
        itemId = await db.BackupItems.OrderBy(i => i.Name).Select(i => i.Id).Skip(4321).FirstAsync();
    }

    Console.WriteLine("first page (25 rows), server time over 30 runs after 5 warm-ups:   median    p95");
    await TimeAsync("items, all vaults", () => protection.ListAsync(new ItemQuery()));
    await TimeAsync("items, one vault", () => protection.ListAsync(new ItemQuery(VaultId: vaultId)));
    await TimeAsync("items, search \"item-0123\"", () => protection.ListAsync(new ItemQuery(Search: "item-0123")));
    await TimeAsync("items, page 200", () => protection.ListAsync(new ItemQuery(PageIndex: 200)));
    await TimeAsync("jobs, all", () => jobs.ListAsync(new JobQuery()));
    await TimeAsync("jobs, one vault", () => jobs.ListAsync(new JobQuery(VaultId: vaultId)));
    await TimeAsync("jobs, failed only", () => jobs.ListAsync(new JobQuery(Status: JobStatus.Failed)));
    await TimeAsync("jobs, one item", () => jobs.ListAsync(new JobQuery(ItemId: itemId)));
    await TimeAsync("jobs, page 1000", () => jobs.ListAsync(new JobQuery(PageIndex: 1000)));
    await TimeAsync("items, health = RPO breached", () => protection.ListAsync(new ItemQuery(Health: ItemHealth.RpoBreached)));

    Console.WriteLine("Backup center and reports, server time over 30 runs after 5 warm-ups:   median    p95");
    var center = scope.ServiceProvider.GetRequiredService<BackupCenterService>();
    var reports = scope.ServiceProvider.GetRequiredService<ReportService>();
    await TimeAsync("Backup center: summary (health, 24 h jobs, storage, attention)", () => center.SummarizeAsync());
    await TimeAsync("Backup center: 14-day charts", () => center.TrendsAsync());
    await TimeAsync("Backup center: whole page (summary + charts)", async () => { await center.SummarizeAsync(); await center.TrendsAsync(); });
    await TimeAsync("report: job success, 30 days", () => reports.JobsPerDayAsync(reports.DefaultRange()));
    await TimeAsync("report: data transferred, 30 days", () => reports.TransferPerDayAsync(reports.DefaultRange()));
    await TimeAsync("report: item storage per item, 30 days (the page)", () => reports.ItemStorageAsync(reports.DefaultRange()));
    await TimeAsync("report: item storage per item and day, 30 days (CSV, 300,000 rows)", () => reports.ItemStoragePerDayAsync(reports.DefaultRange()));
    await ProgressLatencyAsync(provider, connectionString);
}
finally
{
    NpgsqlConnection.ClearAllPools();
    if (!keep)
    {
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection).ExecuteNonQueryAsync();
    }
}

// What the Backup center and /reports spend their server time on, call by call (10 runs after 2 warm-ups).
static async Task ProfileAsync(IServiceProvider provider)
{
    using var scope = provider.CreateScope();
    var sp = scope.ServiceProvider;
    var factory = sp.GetRequiredService<IDbContextFactory<PortalDbContext>>();
    var center = sp.GetRequiredService<BackupCenterService>();
    var reports = sp.GetRequiredService<ReportService>();
    var compliance = sp.GetRequiredService<ComplianceReport>();
    var now = DateTime.UtcNow;
    List<Guid> ids;
    await using (var db = await factory.CreateDbContextAsync())
        ids = await db.BackupItems.Where(i => i.State == ProtectionState.Protected).Select(i => i.Id).ToListAsync();
    Console.WriteLine("profile, server time over 10 runs after 2 warm-ups:   median    p95");
    await TimeAsync("Backup center: summary", () => center.SummarizeAsync(), 2, 10);
    await TimeAsync("Backup center: 14-day charts", () => center.TrendsAsync(), 2, 10);
    await TimeAsync("compliance summary (every protected item)", () => compliance.SummarizeAsync(), 2, 10);
    await TimeAsync("  item health index (every item)", async () => { await using var db = await factory.CreateDbContextAsync(); await ItemHealthIndex.LoadAsync(db, db.BackupItems.AsNoTracking(), now, default); }, 2, 10);
    await TimeAsync("  RPO compliance, 30 days (every protected item)", async () => { await using var db = await factory.CreateDbContextAsync(); await RpoCompliance.OverManyAsync(db, ids, await ItemHealthIndex.RpoLimitsAsync(db, default), now, default); }, 2, 10);
    await TimeAsync("  drill compliance", async () => { await using var db = await factory.CreateDbContextAsync(); await Portal.Features.Drills.DrillCompliance.LoadAsync(db, default); }, 2, 10);
    var range = reports.DefaultRange();
    await TimeAsync("reports: jobs per day", () => reports.JobsPerDayAsync(range), 2, 10);
    await TimeAsync("reports: transfer per day", () => reports.TransferPerDayAsync(range), 2, 10);
    await TimeAsync("reports: storage per day", () => reports.StoragePerDayAsync(range), 2, 10);
    await TimeAsync("reports: item storage", () => reports.ItemStorageAsync(range), 2, 10);
    await TimeAsync("reports: items by policy", () => reports.ItemsByPolicyAsync(), 2, 10);
}

static async Task TimeAsync(string name, Func<Task> run, int warmUps = 5, int runs = 30)
{
    for (var i = 0; i < warmUps; i++) await run();
    var samples = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var watch = Stopwatch.StartNew();
        await run();
        samples.Add(watch.Elapsed.TotalMilliseconds);
    }

    samples.Sort();
    Console.WriteLine($"  {name,-60} {samples[runs / 2],6:F1} ms {samples[(int)Math.Ceiling(runs * 0.95) - 1],6:F1} ms");
}

// The engine's report reaches the job row and the page's notifier (this instance) and the NOTIFY that other
// instances' listeners turn into the same notification. The throttle adds at most Portal.Features.Jobs.Pipeline.JobRun.ReportInterval.
static async Task ProgressLatencyAsync(IServiceProvider provider, string connectionString)
{
    var jobs = provider.GetRequiredService<JobService>();
    var notifier = provider.GetRequiredService<JobNotifier>();
    var job = await jobs.StartAsync(JobKind.Backup, null, "vault-00", "bench", "bench");
    await using var listen = new NpgsqlConnection(connectionString);
    await listen.OpenAsync();
    TaskCompletionSource? remote = null;
    listen.Notification += (_, _) => remote?.TrySetResult();
    await new NpgsqlCommand("LISTEN portal_jobs", listen).ExecuteNonQueryAsync();
    var local = new List<double>();
    var cross = new List<double>();
    for (var i = 0; i < 40; i++)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        remote = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task OnChanged(Job j) { seen.TrySetResult(); return Task.CompletedTask; }
        var subscription = notifier.Subscribe(JobTopic.OfJob(job.Id), OnChanged);
        var watch = Stopwatch.StartNew();
        var wait = listen.WaitAsync();
        await jobs.ReportAsync(job.Id, new JobProgressReport("Transferring data", i * 1000, 100_000, i, 100));
        await seen.Task;
        local.Add(watch.Elapsed.TotalMilliseconds);
        await wait;
        await remote.Task;
        cross.Add(watch.Elapsed.TotalMilliseconds);
        subscription.Dispose();
    }

    local.Sort();
    cross.Sort();
    Console.WriteLine($"progress report → page notifier, this instance (40 reports): median {local[20]:F1} ms, p95 {local[38]:F1} ms");
    Console.WriteLine($"progress report → NOTIFY at another instance (40 reports):  median {cross[20]:F1} ms, p95 {cross[38]:F1} ms");
    Console.WriteLine($"plus the progress throttle: at most {Portal.Features.Jobs.Pipeline.JobRun.ReportInterval.TotalMilliseconds:F0} ms between an engine report and its write");
}

static async Task SeedAsync(string connectionString)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    var sql = $$"""
        INSERT INTO vaults ("Id", "Name", "NormalizedName", "Region", "Redundancy", "SoftDeleteEnabled", "SoftDeleteRetentionDays", "CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy")
        SELECT md5('vault' || g)::uuid, 'vault-' || lpad(g::text, 2, '0'), 'VAULT-' || lpad(g::text, 2, '0'), 'east', 'LRS', true, 14, now(), 'bench', now(), 'bench'
        FROM generate_series(0, {{Vaults - 1}}) g;
        INSERT INTO backup_policies ("Id", "VaultId", "Name", "NormalizedName", "Definition", "CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy")
        SELECT md5('policy' || g)::uuid, md5('vault' || g)::uuid, 'DefaultPolicy', 'DEFAULTPOLICY',
               @definition::jsonb, now(), 'bench', now(), 'bench'
        FROM generate_series(0, {{Vaults - 1}}) g;
        INSERT INTO backup_items ("Id", "VaultId", "Name", "Kind", "State", "PolicyId", "SourcePath", "Include", "Exclude", "CreatedAt", "CreatedBy",
                                  "LastBackupStatus", "LastBackupAt", "LatestRecoveryPointAt")
        SELECT md5('item' || g)::uuid, md5('vault' || (g % {{Vaults}}))::uuid, 'item-' || lpad(g::text, 5, '0'), 'FilesAndFolders', 'Protected',
               md5('policy' || (g % {{Vaults}}))::uuid, '/srv/share/' || g, '{}', '{}', now() - interval '90 days', 'bench',
               CASE WHEN g % 17 = 0 THEN 'Failed' ELSE 'Completed' END, now() - (g % 24) * interval '1 hour',
               CASE WHEN g % 50 = 0 THEN now() - interval '3 days' ELSE now() - (g % 24) * interval '1 hour' END
        FROM generate_series(0, {{Items - 1}}) g;
        INSERT INTO recovery_points ("Id", "ItemId", "VaultId", "SnapshotId", "CreatedAt", "Type", "Consistency", "Files", "Bytes", "BytesAdded", "Warnings")
        SELECT md5('point' || g || '-' || d)::uuid, md5('item' || g)::uuid, md5('vault' || (g % {{Vaults}}))::uuid, md5('snap' || g || '-' || d) || md5('s' || g || '-' || d),
               now() - (g % 24) * interval '1 hour' - d * interval '1 day' - CASE WHEN g % 50 = 0 THEN interval '3 days' ELSE interval '0' END,
               'Scheduled', 'FileSystemConsistent', 100, 10000000, 100000, 0
        FROM generate_series(0, {{Items - 1}}) g, generate_series(0, {{PointsPerItem - 1}}) d;
        INSERT INTO storage_usage ("VaultId", "Region", "Day", "Bytes", "Objects", "MeasuredAt")
        SELECT md5('vault' || g)::uuid, 'east', (now() - d * interval '1 day')::date, 1000000000 + d * 1000000, 1000, now() - d * interval '1 day'
        FROM generate_series(0, {{Vaults - 1}}) g, generate_series(0, 89) d;
        INSERT INTO jobs ("Id", "Kind", "Status", "VaultId", "VaultName", "ItemId", "Subject", "StartedBy", "QueuedAt", "StartedAt", "EndedAt", "HeartbeatAt",
                          "Phase", "BytesDone", "BytesTotal", "FilesDone", "FilesTotal")
        SELECT md5('job' || g)::uuid, CASE WHEN g % 10 = 0 THEN 'Retention' ELSE 'Backup' END,
               CASE WHEN g % 23 = 0 THEN 'Failed' WHEN g % 7 = 0 THEN 'CompletedWithWarnings' ELSE 'Completed' END,
               md5('vault' || (g % {{Vaults}}))::uuid, 'vault-' || lpad((g % {{Vaults}})::text, 2, '0'), md5('item' || (g % {{Items}}))::uuid,
               'item-' || lpad((g % {{Items}})::text, 5, '0'), 'schedule (DefaultPolicy)',
               now() - g * interval '77 seconds', now() - g * interval '77 seconds', now() - g * interval '77 seconds' + interval '3 minutes',
               now() - g * interval '77 seconds', 'Finishing', 1000000, 1000000, 100, 100
        FROM generate_series(0, {{Jobs - 1}}) g;
        ANALYZE;
        """;
    await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
    command.Parameters.AddWithValue("definition", Portal.Features.Policies.PolicyDefinition.Default.ToJson());
    await command.ExecuteNonQueryAsync();
    // What autovacuum does to a table after many inserts (PostgreSQL 13+): without it the visibility map is empty and
    // every index-only scan still reads the table (heap fetches), which no running portal sees.
    await new NpgsqlCommand("VACUUM ANALYZE", connection) { CommandTimeout = 300 }.ExecuteNonQueryAsync();
}

internal sealed class Reader : ICurrentUser
{
    private readonly ClaimsPrincipal user = new(new ClaimsIdentity([new Claim("name", "bench"), new Claim(ClaimTypes.Role, PortalRoles.Reader)], "bench", "name", ClaimTypes.Role));

    public Task<ClaimsPrincipal> GetPrincipalAsync() => Task.FromResult(user);
}
