using System.Diagnostics;
using System.Security.Claims;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Machines.Administration;
using Portal.Tests.Agent;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// Machines as an operator makes them, for the real-process tests and the machines bench: a credentials file from the
/// vault (<see cref="MachineService.CreateCredentialsAsync"/>), <c>portal-agent register</c> with it, then
/// <c>portal-agent run</c>, each machine with its own state folder under <c>ROOT/agents</c>.
/// </summary>
public static class AgentMachines
{
    /// <summary>Registers <paramref name="name"/> to <paramref name="vaultId"/> through <paramref name="portal"/>; its id and state folder.</summary>
    public static async Task<(Guid Id, string State)> RegisterAsync(ProtectionHost host, ClaimsPrincipal user, TestDatabase database,
        PortalProcess portal, Guid vaultId, string root, string name, string passphrase)
    {
        var download = await host.ActAs(user).GetRequiredService<MachineService>().CreateCredentialsAsync(vaultId, portal.Url.ToString());
        var credentials = Path.Combine(root, $"{name}.portalcredentials");
        await File.WriteAllBytesAsync(credentials, download.Content);
        var passphraseFile = Path.Combine(root, $"{name}.passphrase");
        await File.WriteAllTextAsync(passphraseFile, passphrase + "\n");
        var state = Path.Combine(root, "agents", name);
        var (code, output, error) = await AgentProcess.RunAsync("register", "--credentials", credentials, "--passphrase-file", passphraseFile, "--name", name, "--state", state);
        if (code != 0)
            throw new InvalidOperationException($"register {name} exited {code}: {error}\n{output}\n{portal.Output}");
        await using var db = database.Factory.CreateDbContext();
        return ((await db.Machines.SingleAsync(m => m.Name == name)).Id, state);
    }

    /// <summary>Starts <c>portal-agent run</c> on <paramref name="state"/>; what it writes goes to <paramref name="log"/>.</summary>
    public static Process Start(string state, StringBuilder? log = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = AgentProcess.StartInfo("run", "--state", state);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        var process = Process.Start(start)!;
        process.StandardInput.Close();
        log ??= new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
