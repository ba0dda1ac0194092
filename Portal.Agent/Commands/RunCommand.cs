using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Agent.Connection;
using Portal.Agent.Folders;
using Portal.Agent.Jobs;
using Portal.Agent.State;
using Portal.Engine.Storage;

namespace Portal.Agent.Commands;

/// <summary><c>run</c>: the agent's service (systemd runs it; see portal-agent.service).</summary>
internal static class RunCommand
{
    public const string Help = """
        portal-agent run [--state DIR] [--drill-root DIR] [--source-root DIR ...] [--upload-memory MB]
          Runs the agent: connects to the portal (and reconnects forever), runs the backups, restores and restore
          drills the portal sends this machine, one at a time. Drills restore into a folder of their own under
          --drill-root (else $Restore__DrillRoot, else a folder under the system's temporary folder) and delete it. Logs go to standard output (the journal under systemd). Stop it with
          SIGTERM or Ctrl+C: a running job stops, and the portal runs it again later, reusing what was uploaded.
          --source-root DIR (repeatable; else $PORTAL_AGENT_SOURCE_ROOTS, colon-separated) limits what the portal may back
          up and browse on this machine to those folders; without it, any folder.
          --upload-memory MB (else $PORTAL_AGENT_UPLOAD_MEMORY_MB; default 51, three packs; 0 to 1024) is how much of the
          packs being uploaded the agent holds in memory; packs beyond it wait in files in the state folder's uploads/.
          Less memory costs CPU (each pack written to a file and read back), more saves nothing past a few packs.
        """;

    /// <summary>The environment variable for --upload-memory.</summary>
    public const string UploadMemoryVariable = "PORTAL_AGENT_UPLOAD_MEMORY_MB";

    /// <summary>The upload memory in bytes from the option or its variable (<see cref="PortalRepositories.SpoolMemory"/> when neither is set).</summary>
    internal static long UploadMemory(string? option)
    {
        var given = option ?? Environment.GetEnvironmentVariable(UploadMemoryVariable);
        if (string.IsNullOrWhiteSpace(given))
            return PortalRepositories.SpoolMemory;
        if (!int.TryParse(given, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var mb) || mb > 1024)
            throw new UsageException($"--upload-memory ({UploadMemoryVariable}) must be a whole number of megabytes from 0 to 1024, not '{given}'.");
        return mb * 1024L * 1024;
    }

    public static async Task<int> RunAsync(Args a, HttpClient http, CancellationToken ct)
    {
        var folder = StateStore.Resolve(a.Get("--state"));
        var drillRoot = a.Get("--drill-root") ?? (Environment.GetEnvironmentVariable("Restore__DrillRoot") is { Length: > 0 } root ? root : null);
        if (drillRoot is not null && !Path.IsPathFullyQualified(drillRoot))
            throw new UsageException($"--drill-root (Restore:DrillRoot) must be an absolute folder, not '{drillRoot}'");
        var given = a.GetAll("--source-root");
        if (given.Count == 0 && Environment.GetEnvironmentVariable(SourceRoots.Variable) is { Length: > 0 } variable)
            given = variable.Split(':', StringSplitOptions.RemoveEmptyEntries);
        SourceRoots roots;
        try
        {
            roots = new SourceRoots(given);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--source-root ({SourceRoots.Variable}): {e.Message}");
        }

        var uploadMemory = UploadMemory(a.Get("--upload-memory"));
        a.EnsureAllUsed();
        var (store, state) = StateStore.OpenRegistered(folder);
        var key = store.LoadRepositoryKey();
        if (state.RepositoryId is null || key is null)
            throw new AgentException($"The registration of {state.MachineName} did not finish: its repository is not made. " +
                                     $"Run 'portal-agent register{RegisterCommand.StateOption(store.Folder)}' again to finish it.");
        var identity = new MachineIdentity(state.MachineId, store.LoadSigningKey(), store.LoadAgreementKey());
        var limit = new UploadLimit();
        // Packs beyond the upload memory are built into files here and uploaded from them (owner-only, as the state
        // folder); a killed agent's are removed now.
        var spool = Path.Combine(store.Folder, "uploads");
        if (SpoolingStore.Clean(spool) is > 0 and var left)
            Console.Error.WriteLine($"note: removed {left} unfinished upload(s) a stopped agent left in {spool}");
        var session = new AgentSession(state, identity, new JobMachine(state.MachineId, state.MachineName, key, identity.AgreementKey, drillRoot, roots),
            new PortalRepositories(http, state.PortalUri, identity, limit, message => Console.Error.WriteLine($"note: the portal's store: {message}"), spool, uploadMemory), limit,
            new FolderLister(roots));

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [], ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true, ApplicationName = "portal-agent",
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.SetMinimumLevel(Environment.GetEnvironmentVariable("PORTAL_AGENT_DEBUG") is { Length: > 0 } ? LogLevel.Debug : LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Services.AddSystemd(); // under systemd: journal-formatted lines, ready notification, SIGTERM handled
        builder.Services.AddSingleton(session);
        builder.Services.AddHostedService<AgentWorker>();
        using var host = builder.Build();
        await host.RunAsync(ct);
        identity.Dispose();
        return 0;
    }
}
