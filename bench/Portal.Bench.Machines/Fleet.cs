using System.Diagnostics;
using System.Security.Claims;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Machines.Administration;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Agent;
using Portal.Tests.Infrastructure;

namespace Portal.Bench.Machines;

/// <summary>
/// One portal instance as a process (Release, loopback) on a throwaway database, an in-process operator that runs no
/// jobs, one vault, and the agents registered to it as real processes, each with its own state folder.
/// </summary>
internal sealed class Fleet : IAsyncDisposable
{
    public const string Passphrase = "bench machine passphrase 0123456789";
    private static readonly ClaimsPrincipal Operator = TestUsers.WithRoles("Bench", PortalRoles.Contributor);

    /// <summary>The operator's host must not run jobs: every job of the bench runs on the portal process or an agent.</summary>
    private static readonly Dictionary<string, string?> HostSettings = new() { ["Jobs:MaxConcurrentJobs"] = "0" };

    private readonly TestDatabase database;
    private readonly List<Process> agents = [];

    private Fleet(TestDatabase database, string root, ProtectionHost host, PortalProcess portal, Guid vault)
    {
        this.database = database;
        Root = root;
        Host = host;
        Portal = portal;
        Vault = vault;
    }

    public string Root { get; }

    public ProtectionHost Host { get; }

    public PortalProcess Portal { get; }

    public Guid Vault { get; }

    public static async Task<Fleet> StartAsync(int replicas, IReadOnlyDictionary<string, string>? portalSettings = null)
    {
        var database = new TestDatabase();
        await database.InitializeAsync();
        var root = Directory.CreateTempSubdirectory("portal-bench-machines-").FullName;
        // Three replicas: the tests' region east (LRS as configured by default); otherwise a region of that many folders.
        int? single = replicas == 3 ? null : replicas;
        var host = await ProtectionHost.StartAsync(database, root, settings: HostSettings, singleReplicas: single);
        var settings = new Dictionary<string, string>(portalSettings ?? new Dictionary<string, string>());
        if (Trace.Enabled)
        {
            settings["DOTNET_PerfMapEnabled"] = "1";
            settings["DOTNET_EnableWriteXorExecute"] = "0";
        }
        var portal = await PortalProcess.StartAsync(database, root, settings, singleReplicas: single);
        var vault = await host.ActAs(Operator).GetRequiredService<VaultService>()
            .CreateAsync(new CreateVaultRequest("bench", single is null ? "east" : "single", StorageRedundancy.LRS));
        return new Fleet(database, root, host, portal, vault.Id);
    }

    /// <summary>Registers a machine as an operator would: a credentials file, then <c>portal-agent register</c>.</summary>
    public Task<(Guid Id, string State)> RegisterAsync(string name) =>
        AgentMachines.RegisterAsync(Host, Operator, database, Portal, Vault, Root, name, Passphrase);

    public Process StartAgent(string state)
    {
        var process = AgentMachines.Start(state, environment: Trace.Enabled
            ? new Dictionary<string, string> { ["DOTNET_PerfMapEnabled"] = "1", ["DOTNET_EnableWriteXorExecute"] = "0" }
            : null);
        agents.Add(process);
        return process;
    }

    public async Task WaitOnlineAsync(params Guid[] machines)
    {
        var directory = Host.Services.GetRequiredService<IMachines>();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        foreach (var id in machines)
            while (await directory.FindAsync(id, CancellationToken.None) is not { Online: true })
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"machine {id} did not come online\n{Portal.Output}");
                await Task.Delay(100);
            }
    }

    public async Task<Guid> ProtectAsync(Guid machine, string name, string folder)
    {
        var policy = (await Host.ActAs(Operator).GetRequiredService<PolicyService>().ListAsync(Vault)).First();
        var item = await Host.Protection(Operator).ConfigureAsync(new ConfigureProtectionRequest(Vault, policy.Id, name, folder, MachineId: machine));
        return item.Item.Id;
    }

    public Task<Job> BackUpNowAsync(Guid item) => Host.Protection(Operator).BackUpNowAsync(item, DateTime.UtcNow.AddDays(30));

    public async Task<Job> WaitFinishedAsync(Guid job, TimeSpan timeout)
    {
        var done = await Host.WaitForJobAsync(job, j => j.Status.IsFinished(), timeout);
        if (done.Status != JobStatus.Completed)
            throw new InvalidOperationException($"job {job} {done.Status}: {done.Message}\n{Portal.Output}");
        return done;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in agents)
        {
            if (!agent.HasExited)
                agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
            agent.Dispose();
        }

        await Portal.DisposeAsync();
        await Host.DisposeAsync();
        await database.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>What Linux says about a process: CPU seconds used so far, resident and peak resident memory.</summary>
internal static class ProcStat
{
    private const double TicksPerSecond = 100; // sysconf(_SC_CLK_TCK) on Linux x64

    public static double CpuSeconds(int pid) => UserSeconds(pid) + SystemSeconds(pid);

    /// <summary>CPU seconds in the process's own code (utime, field 14 of /proc/PID/stat).</summary>
    public static double UserSeconds(int pid) => StatField(pid, 11) / TicksPerSecond;

    /// <summary>CPU seconds in the kernel on the process's behalf (stime, field 15).</summary>
    public static double SystemSeconds(int pid) => StatField(pid, 12) / TicksPerSecond;

    private static long StatField(int pid, int index)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[index]);
    }

    /// <summary>
    /// Waits until the processes use less than 5 % of a core for two seconds in a row (the runtime's background
    /// compilation of hot code has settled), at most a minute.
    /// </summary>
    public static async Task WaitIdleAsync(params int[] pids)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            var before = pids.Sum(CpuSeconds);
            await Task.Delay(2000);
            if (pids.Sum(CpuSeconds) - before < 0.1)
                return;
        }
    }

    public static long ResidentBytes(int pid) => StatusKiB(pid, "VmRSS:") * 1024;

    public static long PeakResidentBytes(int pid) => StatusKiB(pid, "VmHWM:") * 1024;

    private static long StatusKiB(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim().Split(' ')[0]);
    }
}
