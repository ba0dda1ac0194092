using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Agent.Folders;
using Portal.Agent.Jobs;
using Portal.Agent.State;
using Portal.Engine.Agents;

namespace Portal.Agent.Connection;

/// <summary>What <c>run</c> works with: the registration, the machine's identity, its repositories and its upload limits.</summary>
internal sealed record AgentSession(AgentState State, MachineIdentity Identity, JobMachine Machine, PortalRepositories Repositories, UploadLimit Limit, FolderLister Folders);

/// <summary>
/// The agent's service: one connection to the portal's hub, kept forever (reconnects with <see cref="Backoff"/>, also
/// when the first connect fails). After every connect it says <c>Hello</c> and applies the settings it gets back; then
/// it claims jobs until there is none, runs each to its end (one job at a time), and finishes it. It claims again when
/// the portal sends <c>Wake</c>, and every <see cref="SafetyPoll"/> in case a wake was lost. A dropped connection does
/// not stop a running job; its <c>Finish</c> is retried after reconnecting until the portal answers.
/// </summary>
internal sealed class AgentWorker(AgentSession session, ILogger<AgentWorker> logger) : BackgroundService
{
    /// <summary>How often the agent claims without being woken.</summary>
    public static readonly TimeSpan SafetyPoll = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim wake = new(0, 1);
    private HubConnection? connection;
    private volatile StrongBox<Guid>? running; // the job in hand, for Hello after a reconnect

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var portal = session.State.PortalUri;
        var hub = HubFactory.Build(portal, session.Identity, logger);
        connection = hub;
        hub.On(AgentClientMethods.Wake, Wake);
        hub.On<AgentSettings>(AgentClientMethods.Settings, settings => Apply(settings, "The portal changed the settings"));
        // The folder picker on this machine: listed off the connection's thread, bounded in count and time.
        hub.On<FolderListRequest, FolderListResponse>(AgentClientMethods.ListFolders, request => Task.Run(() => session.Folders.List(request), stoppingToken));
        hub.Reconnecting += e =>
        {
            logger.LogWarning("The connection to the portal was lost ({Reason}); reconnecting.", Reason(e));
            return Task.CompletedTask;
        };
        hub.Reconnected += async _ =>
        {
            await HelloAsync(hub, stoppingToken);
            Wake();
        };
        var runner = new JobRunner(session.Machine, session.Repositories, logger);
        logger.LogInformation("Portal.Agent {Version}: machine {Machine} of vault {Vault}, portal {Portal}. Jobs run one at a time.", AgentVersion,
            session.State.MachineName, session.State.VaultName, session.State.Portal);
        try
        {
            await ConnectAsync(hub, stoppingToken);
            await HelloAsync(hub, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await ClaimAllAsync(hub, runner, stoppingToken);
                await wake.WaitAsync(SafetyPoll, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
        finally
        {
            await hub.DisposeAsync();
            logger.LogInformation("The agent stopped.");
        }
    }

    private void Wake()
    {
        try
        {
            wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already woken
        }
    }

    private async Task ConnectAsync(HubConnection hub, CancellationToken ct)
    {
        for (var attempt = 0L; ; attempt++)
        {
            try
            {
                await hub.StartAsync(ct);
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                var delay = Backoff.Delay(attempt + 1);
                logger.LogWarning("Cannot connect to the portal at {Portal}: {Reason}; next try in {Seconds:0} s.", session.State.Portal, Reason(e), delay.TotalSeconds);
                await Task.Delay(delay, ct);
            }
        }
    }

    private async Task HelloAsync(HubConnection hub, CancellationToken ct)
    {
        try
        {
            var hello = new AgentHello(session.State.MachineName, OperatingSystemName(), AgentVersion, running is { } job ? [job.Value] : []);
            var settings = await hub.InvokeAsync<AgentSettings>(AgentHubMethods.Hello, hello, ct);
            logger.LogInformation("Connected to the portal at {Portal} as {Machine} of vault {Vault}.", session.State.Portal, session.State.MachineName, session.State.VaultName);
            Apply(settings, "Settings");
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning("The portal did not answer Hello ({Reason}); going on.", Reason(e));
        }
    }

    private void Apply(AgentSettings settings, string what)
    {
        session.Limit.Apply(settings);
        logger.LogInformation("{What}: {Limits}.", what, UploadLimit.Describe(settings));
    }

    private async Task ClaimAllAsync(HubConnection hub, JobRunner runner, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested && hub.State == HubConnectionState.Connected)
        {
            AgentJob? job;
            try
            {
                job = await hub.InvokeAsync<AgentJob?>(AgentHubMethods.Claim, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning("Claiming a job failed ({Reason}); trying again later.", Reason(e));
                return;
            }

            if (job is null)
                return;
            await RunAsync(hub, runner, job, ct);
        }
    }

    private async Task RunAsync(HubConnection hub, JobRunner runner, AgentJob job, CancellationToken ct)
    {
        logger.LogInformation("Job {Job} (attempt {Attempt}): {Operation} started.", job.Lease.JobId, job.Lease.Attempt, job.Operation);
        running = new StrongBox<Guid>(job.Lease.JobId);
        try
        {
            var outcome = await runner.RunAsync(job, new HubJobChannel(hub, job.Lease, logger), ct);
            if (outcome is not null)
                await FinishAsync(hub, job.Lease, outcome, ct);
        }
        finally
        {
            running = null;
        }
    }

    private async Task FinishAsync(HubConnection hub, AgentLease lease, AgentOutcome outcome, CancellationToken ct)
    {
        for (var attempt = 0L; ; attempt++)
        {
            if (hub.State == HubConnectionState.Connected)
            {
                try
                {
                    var accepted = await hub.InvokeAsync<bool>(AgentHubMethods.Finish, lease, outcome, ct);
                    if (accepted)
                        logger.LogInformation("Job {Job} finished: {Status}. {Message}", lease.JobId, outcome.Status, outcome.Message);
                    else
                        logger.LogWarning("Job {Job} ended ({Status}), but the portal no longer counts this attempt (its lease was lost); its outcome was not recorded.",
                            lease.JobId, outcome.Status);
                    return;
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    logger.LogWarning("Telling the portal that job {Job} ended failed ({Reason}); trying again.", lease.JobId, Reason(e));
                }
            }

            try
            {
                await Task.Delay(Backoff.Delay(attempt + 1), ct);
            }
            catch (OperationCanceledException)
            {
                logger.LogWarning("The agent stopped before the portal recorded the end of job {Job} ({Status}); the portal will time the attempt out and run the job again.",
                    lease.JobId, outcome.Status);
                throw;
            }
        }
    }

    /// <summary>The agent's version, as it tells the portal.</summary>
    public static string AgentVersion => typeof(AgentWorker).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The operating system in words ("Debian GNU/Linux 13 (trixie) (X64)").</summary>
    public static string OperatingSystemName()
    {
        try
        {
            if (File.Exists("/etc/os-release") &&
                File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal)) is { } line)
                return $"{line["PRETTY_NAME=".Length..].Trim('"')} ({RuntimeInformation.OSArchitecture})";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // fall back on the runtime's words
        }

        return $"{RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})";
    }

    /// <summary>One line of why a call failed, never a stack trace; a refusal says what to check.</summary>
    public static string Reason(Exception? e) => e switch
    {
        null => "closed",
        HttpRequestException { StatusCode: HttpStatusCode.Unauthorized } =>
            "the portal refuses this machine (401): it may have been revoked, or this machine's clock is off; run 'portal-agent status'",
        HttpRequestException { StatusCode: HttpStatusCode.Forbidden } => "the portal refuses this machine (403); run 'portal-agent status'",
        HubException => e.Message,
        _ => Words(e),
    };

    /// <summary>An exception's message, with its inner one when the outer only points at it ("see inner exception").</summary>
    public static string Words(Exception e)
    {
        var message = e.Message;
        for (var inner = e.InnerException; inner is not null && (message.Contains("inner exception", StringComparison.OrdinalIgnoreCase) || message.Length < 12);
             inner = inner.InnerException)
            message = $"{message.Replace(", see inner exception.", "", StringComparison.Ordinal).TrimEnd('.')}: {inner.Message}";
        return message;
    }
}
