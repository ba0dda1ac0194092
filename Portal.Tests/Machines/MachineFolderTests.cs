using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Machines;

/// <summary>
/// Issue 21, the folder picker on a machine: the portal asks the machine's agent (a real process) for the folders one
/// level below a path over its control connection. Here the asking instance (the test's host) does not hold the
/// connection (the portal process does): the question and the answer go between the instances through PostgreSQL.
/// The agent lists only inside its --source-root folders and never offers a link out of them; an offline machine says so.
/// </summary>
public sealed class MachineFolderTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly string root = Directory.CreateTempSubdirectory("portal-machine-folders-").FullName;
    private readonly System.Security.Claims.ClaimsPrincipal ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);
    private readonly System.Security.Claims.ClaimsPrincipal olga = TestUsers.WithRoles("Olga", PortalRoles.Operator);
    private Process? agent;
    private readonly StringBuilder agentLog = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        if (agent is { HasExited: false })
            agent.Kill(entireProcessTree: true);
        if (agent is not null)
        {
            await agent.WaitForExitAsync();
            agent.Dispose();
        }

        await database.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task A_machines_agent_lists_its_folders_inside_its_source_roots_across_instances_and_an_offline_machine_says_so()
    {
        await using var host = await ProtectionHost.StartAsync(database, root, settings: new Dictionary<string, string?> { ["Jobs:MaxConcurrentJobs"] = "0" });
        await using var portal = await PortalProcess.StartAsync(database, root);
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("estate", "east", StorageRedundancy.LRS));
        var (machineId, state) = await AgentMachines.RegisterAsync(host, ann, database, portal, vault.Id, root, "web-01", "machine passphrase of web-01");

        // web-01's disk: /srv is what its agent lets the portal back up; a link inside it leads out, another stays inside.
        var srv = Directory.CreateDirectory(Path.Combine(root, "web-01", "srv")).FullName;
        var share = Directory.CreateDirectory(Path.Combine(srv, "share")).FullName;
        Directory.CreateDirectory(Path.Combine(share, "docs"));
        Directory.CreateDirectory(Path.Combine(share, "images"));
        File.WriteAllText(Path.Combine(share, "report.txt"), "a file is not a folder");
        var secret = Directory.CreateDirectory(Path.Combine(root, "web-01", "etc-secret")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(srv, "escape"), secret);
        Directory.CreateSymbolicLink(Path.Combine(srv, "current"), share);
        agent = AgentMachines.Start(state, agentLog, new Dictionary<string, string> { ["PORTAL_AGENT_SOURCE_ROOTS"] = srv });
        await WaitUntilAsync(async () => await host.Services.GetRequiredService<IMachines>().FindAsync(machineId, CancellationToken.None) is { Online: true },
            "web-01 is online");
        var folders = host.ActAs(olga).GetRequiredService<SourceFolders>();

        var top = await folders.ListAsync(null, machineId);                        // the top: the agent's source roots
        Assert.Null(top.Path);
        Assert.Equal([srv], top.Folders);
        var atRoot = await folders.ListAsync(srv, machineId);                      // the link out is not offered; the one inside is
        Assert.Equal([Path.Combine(srv, "current"), share], atRoot.Folders);
        Assert.Null(atRoot.Parent);                                                  // up from a root shows the roots
        var below = await folders.ListAsync(share + "/", machineId);                // normalised; files are not listed
        Assert.Equal(share, below.Path);
        Assert.Equal(srv, below.Parent);
        Assert.Equal([Path.Combine(share, "docs"), Path.Combine(share, "images")], below.Folders);

        var outside = await Assert.ThrowsAsync<PortalValidationException>(() => folders.ListAsync(secret, machineId));
        Assert.Contains("outside the folders this machine may back up", outside.Message);
        await Assert.ThrowsAsync<PortalValidationException>(() => folders.ListAsync(Path.Combine(srv, "escape"), machineId));
        var relative = await Assert.ThrowsAsync<PortalValidationException>(() => folders.ListAsync("srv/share", machineId));
        Assert.Contains("not an absolute path", relative.Message);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() =>
            host.ActAs(TestUsers.WithRoles("Rita", PortalRoles.Reader)).GetRequiredService<SourceFolders>().ListAsync(srv, machineId));

        // The machine goes off: the picker says so (and the path can still be typed).
        agent.Kill(entireProcessTree: true);
        await agent.WaitForExitAsync();
        await WaitUntilAsync(async () => await host.Services.GetRequiredService<IMachines>().FindAsync(machineId, CancellationToken.None) is { Online: false },
            "web-01 is offline");
        var offline = await Assert.ThrowsAsync<PortalValidationException>(() => folders.ListAsync(srv, machineId));
        Assert.Matches("^web-01 is offline since .+ UTC: its folders cannot be listed. Type the folder's path.$", offline.Errors["SourcePath"]);
    }

    /// <summary>Polls a condition another process makes true (there is nothing to subscribe to across processes).</summary>
    private async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                lock (agentLog)
                    throw new TimeoutException($"Waited 60 s for: {what}.\n{agentLog}");
            }

            await Task.Delay(100);
        }
    }
}
