using System.Diagnostics;
using System.Globalization;
using Portal.Bench.Machines;

// ./portal.sh bench-machines throughput DATASET [RUNS] [REPLICAS]
// ./portal.sh bench-machines idle AGENTS          (see FleetBench)
// ./portal.sh bench-machines busy AGENTS DATASET  (see FleetBench)
// ./portal.sh bench-machines upload [PACKS] [PARALLEL] (the portal alone receiving 16 MiB packs)
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
switch (args)
{
    case ["throughput", var dataset, ..]:
        await Throughput.RunAsync(Path.GetFullPath(dataset), args.Length > 2 ? int.Parse(args[2]) : 3, args.Length > 3 ? int.Parse(args[3]) : 1);
        return 0;
    case ["upload", ..]:
        await UploadProbe.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 35, args.Length > 2 ? int.Parse(args[2]) : 2);
        return 0;
    case ["idle", ..]:
        await FleetBench.IdleAsync(args.Length > 1 ? int.Parse(args[1]) : 500);
        return 0;
    case ["busy", var agents, var dataset]:
        await FleetBench.BusyAsync(int.Parse(agents), Path.GetFullPath(dataset));
        return 0;
    default:
        Console.Error.WriteLine("usage: Portal.Bench.Machines throughput DATASET [RUNS] [REPLICAS] | upload [PACKS] [PARALLEL] | idle [AGENTS=500] | busy AGENTS DATASET");
        return 2;
}

/// <summary>
/// The portal's side alone: PACKS objects of 16 MiB of random bytes put through the store endpoint by one machine's
/// identity (the agent's code, in this process), PARALLEL at a time as the engine stores packs: the portal's CPU per MB
/// received, without an agent competing for the cores.
/// </summary>
internal static class UploadProbe
{
    public static async Task RunAsync(int packs, int parallel)
    {
        await using var fleet = await Fleet.StartAsync(1);
        var (machine, state) = await fleet.RegisterAsync("upload-01");
        var (store, _) = Portal.Agent.State.StateStore.OpenRegistered(state);
        using var identity = new Portal.Agent.Connection.MachineIdentity(machine, store.LoadSigningKey(), store.LoadAgreementKey());
        using var http = new HttpClient();
        var objects = new Portal.Engine.Storage.HttpObjectStore(http, fleet.Portal.Url, identity.Authorization);
        var data = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
        for (var round = 0; round < 2; round++) // the first round warms the portal up
        {
            await ProcStat.WaitIdleAsync(fleet.Portal.Id);
            var cpu = ProcStat.CpuSeconds(fleet.Portal.Id);
            var sys = ProcStat.SystemSeconds(fleet.Portal.Id);
            var clock = Stopwatch.StartNew();
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(async () =>
            {
                var mine = (byte[])data.Clone();
                while (Interlocked.Increment(ref next) is var i && i <= packs)
                {
                    mine[0] = (byte)i;
                    mine[1] = (byte)round;
                    var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(mine));
                    await objects.PutAsync($"data/{hash[..2]}/{hash}", mine);
                }
            })));
            var megabytes = packs * 16.0 * 1.048576;
            Console.WriteLine($"round {round + 1}: {megabytes:F0} MB in {clock.Elapsed.TotalSeconds:F2}s; portal cpu {ProcStat.CpuSeconds(fleet.Portal.Id) - cpu:F2}s " +
                $"({ProcStat.SystemSeconds(fleet.Portal.Id) - sys:F2}s kernel) = {(ProcStat.CpuSeconds(fleet.Portal.Id) - cpu) * 1000 / megabytes:F1} ms per MB");
        }
    }
}

/// <summary>
/// Issue 21: an agent's first backup of DATASET through the portal's store endpoint, against <c>Portal.Cli backup</c> of
/// the same folder to a local folder, on this machine, in the same run. The portal's region has REPLICAS folders (1:
/// the same one copy the CLI writes; 3: LRS as configured by default).
/// </summary>
internal static class Throughput
{
    public static async Task RunAsync(string dataset, int runs, int replicas)
    {
        Warm(dataset);
        Console.WriteLine($"dataset {dataset}: {Directory.EnumerateFiles(dataset, "*", SearchOption.AllDirectories).Count()} files, " +
            $"{Directory.EnumerateFiles(dataset, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 1e6:F0} MB; region replicas {replicas}");
        for (var run = 1; run <= runs; run++)
        {
            var cold = await AgentAsync(dataset, replicas, warm: false);
            var agent = await AgentAsync(dataset, replicas, warm: true);
            var cli = await CliAsync(dataset);
            Console.WriteLine($"run {run}: cold agent={cold.Seconds:F2}s (portal cpu {cold.PortalCpu:F2}s, agent cpu {cold.AgentCpu:F2}s)");
            Console.WriteLine($"run {run}: agent={agent.Seconds:F2}s (portal cpu {agent.PortalCpu:F2}s, agent cpu {agent.AgentCpu:F2}s, agent peak {agent.AgentPeak / 1048576}MB, " +
                $"portal peak {agent.PortalPeak / 1048576}MB) cli={cli.Seconds:F2}s (cpu {cli.Cpu:F2}s, peak {cli.Peak / 1048576}MB) ratio={agent.Seconds / cli.Seconds:F2}");
        }
    }

    private static async Task<(double Seconds, double PortalCpu, double AgentCpu, long AgentPeak, long PortalPeak)> AgentAsync(string dataset, int replicas, bool warm)
    {
        // PORTAL_BENCH_PORTAL_ENV="NAME=VALUE;NAME=VALUE": runtime settings for the portal process (DOTNET_gcServer=0, ...).
        var portalEnvironment = (Environment.GetEnvironmentVariable("PORTAL_BENCH_PORTAL_ENV") ?? "")
            .Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        await using var fleet = await Fleet.StartAsync(replicas, portalEnvironment);
        var (machine, state) = await fleet.RegisterAsync("bench-01");
        var agent = fleet.StartAgent(state);
        await fleet.WaitOnlineAsync(machine);
        if (warm)
        {
            // The portal and the agent are services that run for days: their code is compiled (to the JIT's last
            // tier) by the time a backup comes. Other machines back up the same data first (each its own repository:
            // nothing is shared with this one's), so the portal has run exactly this work, PORTAL_BENCH_WARM times (2);
            // this machine backs up other files a few times. The JIT promotes a method to its optimized tier after
            // 30 calls, so work done once per job needs several jobs.
            var rounds = int.TryParse(Environment.GetEnvironmentVariable("PORTAL_BENCH_WARM"), out var r) ? r : 2;
            for (var round = 1; round <= rounds; round++)
            {
                var (other, otherState) = await fleet.RegisterAsync($"warm-{round:D2}");
                var otherAgent = fleet.StartAgent(otherState);
                await fleet.WaitOnlineAsync(other);
                await fleet.WaitFinishedAsync((await fleet.BackUpNowAsync(await fleet.ProtectAsync(other, $"dataset on warm-{round:D2}", dataset))).Id, TimeSpan.FromMinutes(10));
                otherAgent.Kill();
            }

            var warmup = await fleet.ProtectAsync(machine, "warm-up", WarmUpFolder(fleet.Root));
            for (var small = 0; small < 4 * rounds; small++)
            {
                File.AppendAllText(Path.Combine(fleet.Root, "warm-up", $"text-{2 * small + 1}.txt"), "a change");
                await fleet.WaitFinishedAsync((await fleet.BackUpNowAsync(warmup)).Id, TimeSpan.FromMinutes(5));
            }

            await ProcStat.WaitIdleAsync(fleet.Portal.Id, agent.Id);
        }

        var item = await fleet.ProtectAsync(machine, "dataset", dataset);
        var portalCpu = ProcStat.CpuSeconds(fleet.Portal.Id);
        var portalSys = ProcStat.SystemSeconds(fleet.Portal.Id);
        var agentCpu = ProcStat.CpuSeconds(agent.Id);
        using var traces = Trace.Start(("portal", fleet.Portal.Id), ("agent", agent.Id));
        var job = await fleet.BackUpNowAsync(item);
        var done = await fleet.WaitFinishedAsync(job.Id, TimeSpan.FromMinutes(10));
        var seconds = (done.EndedAt!.Value - done.StartedAt!.Value).TotalSeconds;
        traces?.Dispose();
        Console.WriteLine($"  portal: {ProcStat.SystemSeconds(fleet.Portal.Id) - portalSys:F2}s of its CPU in the kernel");
        return (seconds, ProcStat.CpuSeconds(fleet.Portal.Id) - portalCpu, ProcStat.CpuSeconds(agent.Id) - agentCpu,
            ProcStat.PeakResidentBytes(agent.Id), ProcStat.PeakResidentBytes(fleet.Portal.Id));
    }

    /// <summary>60 MB of other files (text and random bytes) for the warm-up backup.</summary>
    private static string WarmUpFolder(string root)
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, "warm-up")).FullName;
        var random = new Random(21);
        string[] words = ["vault", "backup", "item", "recovery", "point", "agent", "region", "policy", "replica", "restore"];
        for (var i = 0; i < 200; i++)
        {
            if (i % 2 == 0)
            {
                var bytes = new byte[random.Next(100_000, 500_000)];
                random.NextBytes(bytes);
                File.WriteAllBytes(Path.Combine(folder, $"blob-{i}.bin"), bytes);
            }
            else
            {
                var text = new System.Text.StringBuilder();
                while (text.Length < 300_000)
                    text.Append(words[random.Next(words.Length)]).Append(random.Next(10) == 0 ? '\n' : ' ');
                File.WriteAllText(Path.Combine(folder, $"text-{i}.txt"), text.ToString());
            }
        }

        return folder;
    }

    /// <summary><c>Portal.Cli init</c>, then the timed <c>backup</c> (wall clock of the process, as peer-bench.sh times it).</summary>
    private static async Task<(double Seconds, long Peak, double Cpu)> CliAsync(string dataset)
    {
        var work = Directory.CreateTempSubdirectory("portal-bench-cli-").FullName;
        try
        {
            var repo = Path.Combine(work, "repo");
            await RunAsync(Cli(), "init", "--repo", repo);
            var timing = Path.Combine(work, "time");
            var clock = Stopwatch.StartNew();
            await RunAsync("/usr/bin/time", "-f", "%e %M %U %S", "-o", timing, "dotnet", Cli(), "backup", "--repo", repo, "--source", dataset);
            var fields = File.ReadAllText(timing).Trim().Split(' ');
            return (double.Parse(fields[0]), long.Parse(fields[1]) * 1024, double.Parse(fields[2]) + double.Parse(fields[3]));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string Cli()
    {
        var bin = Path.GetDirectoryName(typeof(Throughput).Assembly.Location)!;
        var configuration = Path.GetFileName(Path.GetDirectoryName(bin))!;
        return Path.Combine(Portal.Tests.Infrastructure.Checkout.Root(), "Portal.Cli", "bin", configuration, "net10.0", "Portal.Cli.dll");
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (file != "/usr/bin/time")
        {
            start.FileName = "dotnet";
            start.ArgumentList.Add(file);
        }

        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PORTAL_PASSPHRASE"] = Fleet.Passphrase;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await error}\n{await output}");
    }

    /// <summary>Reads every file once, so that neither side pays for the first read from disk.</summary>
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
}

/// <summary>
/// With PORTAL_BENCH_TRACE=DIR, CPU samples of the named processes (Linux <c>perf record -g</c>; the processes run with
/// DOTNET_PerfMapEnabled=1 so that JIT-compiled frames have names) for PORTAL_BENCH_TRACE_SECONDS (15) from the start of
/// the work, into DIR/NAME.perf.data; read them with <c>perf report -i DIR/NAME.perf.data --no-children</c>.
/// </summary>
internal sealed class Trace : IDisposable
{
    private readonly List<Process> collectors;
    private readonly (string Name, int Pid, long Lines)[] maps;
    private readonly string dir;

    private Trace(List<Process> collectors, (string Name, int Pid, long Lines)[] maps, string dir)
    {
        this.collectors = collectors;
        this.maps = maps;
        this.dir = dir;
    }

    private static long MapLines(int pid) => File.Exists($"/tmp/perf-{pid}.map") ? File.ReadLines($"/tmp/perf-{pid}.map").LongCount() : 0;

    public static bool Enabled => Environment.GetEnvironmentVariable("PORTAL_BENCH_TRACE") is { Length: > 0 };

    public static Trace? Start(params (string Name, int Pid)[] processes)
    {
        if (Environment.GetEnvironmentVariable("PORTAL_BENCH_TRACE") is not { Length: > 0 } dir)
            return null;
        Directory.CreateDirectory(dir);
        var seconds = Environment.GetEnvironmentVariable("PORTAL_BENCH_TRACE_SECONDS") ?? "15";
        var collectors = new List<Process>();
        foreach (var (name, pid) in processes)
        {
            var start = new ProcessStartInfo("perf") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "record", "-F", "499", "-g", "-p", pid.ToString(), "-o", Path.Combine(dir, name + ".perf.data"), "--", "sleep", seconds })
                start.ArgumentList.Add(a);
            var collector = Process.Start(start)!;
            collector.OutputDataReceived += (_, _) => { };
            collector.ErrorDataReceived += (_, _) => { };
            collector.BeginOutputReadLine();
            collector.BeginErrorReadLine();
            collectors.Add(collector);
        }

        return new Trace(collectors, [.. processes.Select(p => (p.Name, p.Pid, MapLines(p.Pid)))], dir);
    }

    public void Dispose()
    {
        foreach (var collector in collectors)
            if (!collector.WaitForExit(120_000))
                collector.Kill();
        collectors.Clear();
        // What the runtime compiled while the work ran (JIT tiers, stubs): DIR/NAME.jitted.txt.
        foreach (var (name, pid, lines) in maps)
            if (File.Exists($"/tmp/perf-{pid}.map"))
            {
                var compiled = File.ReadLines($"/tmp/perf-{pid}.map").Skip((int)lines).ToList();
                File.WriteAllLines(Path.Combine(dir, name + ".jitted.txt"), compiled);
                Console.WriteLine($"  {name}: {compiled.Count(l => !l.Contains(" stub "))} methods compiled while traced");
            }
    }
}
