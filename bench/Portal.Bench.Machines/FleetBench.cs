using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Agent.Connection;
using Portal.Agent.Jobs;
using Portal.Agent.State;
using Portal.Engine;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Features.Jobs;
using Portal.Features.Machines.Administration;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Bench.Machines;

/// <summary>
/// Issue 21's fleet figures on one portal process (Release, loopback, everything on this machine):
/// <list type="bullet">
/// <item><c>idle N</c>: N simulated agents (the agent's own <see cref="AgentWorker"/> in this process: one SignalR
/// WebSocket connection each, Hello, a claim every <see cref="AgentWorker.SafetyPoll"/>, SignalR keep-alives) against the
/// portal's resident memory and CPU before they connect.</item>
/// <item><c>busy N DATASET</c>: N real agent processes backing DATASET up at once, each into its own repository.</item>
/// </list>
/// PORTAL_BENCH_WINDOW (seconds, 60): how long CPU is measured at idle, before and after the agents connect.
/// </summary>
internal static class FleetBench
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("PORTAL_BENCH_WINDOW") ?? "60"));

    public static Dictionary<string, string> PortalEnvironment() =>
        (Environment.GetEnvironmentVariable("PORTAL_BENCH_PORTAL_ENV") ?? "")
        .Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    public static async Task IdleAsync(int count)
    {
        Console.WriteLine($"idle: {count} simulated agents on one portal process; window {Window.TotalSeconds:F0} s; {Environment.ProcessorCount} cores; load {Load()}");
        await using var fleet = await Fleet.StartAsync(1, PortalEnvironment());
        var pid = fleet.Portal.Id;
        var bench = Environment.ProcessId;

        // Baseline: the portal started, the vault made, nothing connected; settled.
        await Task.Delay(TimeSpan.FromSeconds(10));
        await ProcStat.WaitIdleAsync(pid);
        var before = await MeasureAsync(pid, bench);
        Console.WriteLine($"baseline: portal rss {before.Rss / 1048576.0:F1} MB, cpu {before.CpuPercent:F2} % of a core, threads {before.Threads}; bench cpu {before.BenchPercent:F1} %");

        // Registration: the portal's registration endpoint, as 'portal-agent register' calls it, with keys made here. The
        // repository step (a passphrase KDF and the repository's first objects, then the key's escrow) is left out:
        // an idle connection never touches the repository, and 500 KDFs would take this machine most of an hour.
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient();
        var sessions = new AgentSession[count];
        var operatorServices = fleet.Host.ActAs(TestUsers.WithRoles("Bench", Portal.Features.Identity.PortalRoles.Contributor));
        var machineService = operatorServices.GetRequiredService<MachineService>();
        var downloads = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
            downloads.Add((await machineService.CreateCredentialsAsync(fleet.Vault, fleet.Portal.Url.ToString())).Content);
        var credentialsSeconds = clock.Elapsed.TotalSeconds;
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var name = $"sim-{i:D4}";
            var credentials = Credentials.Parse(downloads[i], name, DateTimeOffset.UtcNow);
            var portal = Credentials.PortalAddress(credentials.Portal, "portal");
            var (signing, agreement) = MachineIdentity.NewKeys();
            var response = await new PortalClient(http, portal).RegisterAsync(new RegisterRequest(credentials.CredentialId, credentials.Secret, name,
                AgentWorker.OperatingSystemName(), AgentWorker.AgentVersion, Convert.ToBase64String(signing.ExportSubjectPublicKeyInfo()),
                Convert.ToBase64String(agreement.ExportSubjectPublicKeyInfo())), ct);
            var state = new AgentState(response.MachineId, response.VaultId, response.VaultName, response.MachineName, portal.ToString(), DateTimeOffset.UtcNow,
                response.EscrowKey, RepositoryId: "bench");
            var identity = new MachineIdentity(state.MachineId, signing, agreement);
            var limit = new UploadLimit();
            // No job ever reaches these agents (nothing is protected on them): a random repository key stands in.
            sessions[i] = new AgentSession(state, identity, new JobMachine(state.MachineId, state.MachineName, new RepositoryKey(RandomNumberGenerator.GetBytes(32)), agreement),
                new PortalRepositories(http, portal, identity, limit), limit, new Portal.Agent.Folders.FolderLister(new Portal.Agent.Folders.SourceRoots([])));
        });
        Console.WriteLine($"registered {count} machines in {clock.Elapsed.TotalSeconds:F1} s ({credentialsSeconds:F1} s of it making credentials files through the operator host)");

        // Connect: every agent starts at once, as after a portal restart.
        var machines = fleet.Host.Services.GetRequiredService<IMachines>();
        var workers = sessions.Select(s => new AgentWorker(s, NullLogger<AgentWorker>.Instance)).ToArray();
        using var stop = new CancellationTokenSource();
        clock.Restart();
        foreach (var worker in workers)
            await worker.StartAsync(stop.Token);
        int online;
        while ((online = (await machines.ListAsync(fleet.Vault, CancellationToken.None)).Count(m => m.Online)) < count)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(10))
                throw new TimeoutException($"{online} of {count} machines online after 10 minutes\n{fleet.Portal.Output}");
            await Task.Delay(250);
        }

        var connectSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"connected: {count} machines online in the portal's presence {connectSeconds:F1} s after the first agent started; portal rss {ProcStat.ResidentBytes(pid) / 1048576.0:F1} MB");

        // Settled: past the connect burst (the first claims and Hellos) and the runtime's background compilation.
        await Task.Delay(TimeSpan.FromSeconds(20));
        await ProcStat.WaitIdleAsync(pid);
        var traces = Trace.Start(("portal", pid)); // PORTAL_BENCH_TRACE: the portal's CPU samples with N agents connected
        var after = await MeasureAsync(pid, bench);
        traces?.Dispose();
        online = (await machines.ListAsync(fleet.Vault, CancellationToken.None)).Count(m => m.Online);
        int helloed;
        await using (var db = await fleet.Host.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
            helloed = await db.Machines.CountAsync(m => m.AgentVersion == AgentWorker.AgentVersion);
        Console.WriteLine($"connected and idle: portal rss {after.Rss / 1048576.0:F1} MB, cpu {after.CpuPercent:F2} % of a core, threads {after.Threads}; bench cpu {after.BenchPercent:F1} %; " +
                          $"{online} online at the end, {helloed} said Hello");
        Console.WriteLine($"per agent: rss +{(after.Rss - before.Rss) / 1024.0 / count:F1} KB, cpu +{(after.CpuPercent - before.CpuPercent) / count:F4} % of a core " +
                          $"(goals: < 1024 KB, < 0.1 %); connect {connectSeconds:F1} s for {count}; load {Load()}");

        stop.Cancel();
        await Task.WhenAll(workers.Select(w => w.StopAsync(CancellationToken.None)));
        foreach (var session in sessions)
            session.Identity.Dispose();
    }

    /// <summary>The portal's CPU over <see cref="Window"/> (and this process's), its resident memory at the end.</summary>
    private static async Task<(long Rss, double CpuPercent, double BenchPercent, int Threads)> MeasureAsync(int pid, int bench)
    {
        var cpu = ProcStat.CpuSeconds(pid);
        var benchCpu = ProcStat.CpuSeconds(bench);
        var clock = Stopwatch.StartNew();
        await Task.Delay(Window);
        var seconds = clock.Elapsed.TotalSeconds;
        return (ProcStat.ResidentBytes(pid), (ProcStat.CpuSeconds(pid) - cpu) / seconds * 100, (ProcStat.CpuSeconds(bench) - benchCpu) / seconds * 100,
            Directory.GetDirectories($"/proc/{pid}/task").Length);
    }

    public static async Task BusyAsync(int count, string dataset)
    {
        var files = Directory.EnumerateFiles(dataset, "*", SearchOption.AllDirectories).ToList();
        var size = files.Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"busy: {count} agent processes, each backing up {dataset} ({files.Count} files, {size / 1e6:F0} MB) into its own repository, " +
                          $"at once, through one portal process; {Environment.ProcessorCount} cores; load {Load()}");
        await using var fleet = await Fleet.StartAsync(3, PortalEnvironment()); // LRS as a vault has it: three copies
        var pid = fleet.Portal.Id;

        // Registration runs the real 'portal-agent register' (the passphrase KDF each): two at a time.
        var clock = Stopwatch.StartNew();
        var registered = new (Guid Id, string State)[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (i, _) => registered[i] = await fleet.RegisterAsync($"busy-{i:D2}"));
        Console.WriteLine($"registered {count} machines in {clock.Elapsed.TotalSeconds:F1} s");
        var agents = registered.Select(r => fleet.StartAgent(r.State)).ToArray();
        await fleet.WaitOnlineAsync([.. registered.Select(r => r.Id)]);
        var items = new Guid[count];
        for (var i = 0; i < count; i++)
            items[i] = await fleet.ProtectAsync(registered[i].Id, $"dataset on busy-{i:D2}", dataset);
        Warm(dataset);
        await ProcStat.WaitIdleAsync([pid, .. agents.Select(a => a.Id)]);

        // The vault's region (east) has three replica folders (east/1, east/2, east/3): what the portal received is what
        // its first replica gained; it writes every byte to all three.
        var regions = Path.Combine(fleet.Root, "regions");
        var replica = Path.Combine(regions, "east", "1");
        var stored = FolderBytes(regions);
        var storedReplica = FolderBytes(replica);
        var portalCpu = ProcStat.CpuSeconds(pid);
        var agentCpu = agents.Sum(a => ProcStat.CpuSeconds(a.Id));
        var peak = 0L;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ProcStat.ResidentBytes(pid));
                await Task.Delay(200);
            }
        });
        using var traces = Trace.Start(("portal", pid));
        clock.Restart();
        var jobs = new List<Job>();
        foreach (var item in items)
            jobs.Add(await fleet.BackUpNowAsync(item));
        var done = await Task.WhenAll(jobs.Select(j => fleet.WaitFinishedAsync(j.Id, TimeSpan.FromMinutes(30))));
        var wall = clock.Elapsed.TotalSeconds;
        sampling.Cancel();
        await sampler;
        traces?.Dispose();
        var portalSeconds = ProcStat.CpuSeconds(pid) - portalCpu;
        var agentSeconds = agents.Sum(a => ProcStat.CpuSeconds(a.Id)) - agentCpu;
        var written = FolderBytes(regions) - stored;
        var added = FolderBytes(replica) - storedReplica;
        if (Environment.GetEnvironmentVariable("PORTAL_BENCH_LAYOUT") is { Length: > 0 })
            foreach (var group in Directory.EnumerateFiles(regions, "*", SearchOption.AllDirectories)
                         .GroupBy(f => string.Join('/', Path.GetRelativePath(regions, f).Split('/').Where(p => p.Length != 32 || !p.All(char.IsAsciiHexDigit)).Take(4)))
                         .OrderByDescending(g => g.Sum(f => new FileInfo(f).Length)).Take(15))
                Console.WriteLine($"  {group.Key}: {group.Count()} files, {group.Sum(f => new FileInfo(f).Length) / 1e6:F1} MB");

        var first = done.Min(j => j.StartedAt!.Value);
        var last = done.Max(j => j.EndedAt!.Value);
        var span = (last - first).TotalSeconds;
        var durations = done.Select(j => (j.EndedAt!.Value - j.StartedAt!.Value).TotalSeconds).Order().ToArray();
        var read = (double)size * count;
        Console.WriteLine($"jobs: first start to last end {span:F1} s (queued to last end {wall:F1} s); each job {durations[0]:F1} / {durations[durations.Length / 2]:F1} / {durations[^1]:F1} s (min / median / max); " +
                          $"starts spread over {(done.Max(j => j.StartedAt!.Value) - first).TotalSeconds:F1} s");
        Console.WriteLine($"aggregate: read {read / 1e6:F0} MB from sources = {read / 1e6 / span:F1} MB/s; added to the vault (one replica) {added / 1e6:F0} MB = {added / 1e6 / span:F1} MB/s; " +
                          $"written by the portal to all replicas {written / 1e6:F0} MB");
        Console.WriteLine($"portal: {portalSeconds:F1} CPU s = {portalSeconds / (added / 1e6) * 1000:F1} CPU ms per MB received ({portalSeconds / span * 100:F0} % of a core over the span); " +
                          $"peak rss during the jobs {peak / 1048576.0:F0} MB (VmHWM {ProcStat.PeakResidentBytes(pid) / 1048576.0:F0} MB); agents {agentSeconds:F1} CPU s in all; load {Load()}");
    }

    private static long FolderBytes(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;

    private static void Warm(string dataset)
    {
        var buffer = new byte[1 << 20];
        foreach (var file in Directory.EnumerateFiles(dataset, "*", SearchOption.AllDirectories))
        {
            using var stream = File.OpenRead(file);
            while (stream.Read(buffer) > 0)
            {
            }
        }
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ') is var f ? $"{f[0]} {f[1]} {f[2]}" : "";
}
