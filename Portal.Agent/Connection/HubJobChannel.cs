using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Portal.Agent.Jobs;
using Portal.Engine.Agents;

namespace Portal.Agent.Connection;

/// <summary>
/// A job's channel over the hub: reports and log lines go to the portal while connected and are dropped while not (the
/// job goes on; the next report after reconnecting carries the news). Warnings and errors also go to the agent's own log.
/// </summary>
internal sealed class HubJobChannel(HubConnection connection, AgentLease lease, ILogger logger) : IJobChannel
{
    /// <inheritdoc />
    public async Task<AgentControl> ReportAsync(AgentProgress progress, CancellationToken ct)
    {
        if (connection.State != HubConnectionState.Connected)
            return AgentControl.Continue;
        try
        {
            return await connection.InvokeAsync<AgentControl>(AgentHubMethods.Report, lease, progress, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogDebug("A progress report of job {Job} was dropped: {Reason}", lease.JobId, e.Message);
            return AgentControl.Continue;
        }
    }

    /// <inheritdoc />
    public async Task LogAsync(AgentLogLevel level, IReadOnlyList<string> lines, CancellationToken ct)
    {
        var local = level switch { AgentLogLevel.Error => LogLevel.Error, AgentLogLevel.Warning => LogLevel.Warning, _ => LogLevel.Debug };
        foreach (var line in lines)
            logger.Log(local, "Job {Job}: {Line}", lease.JobId, line);
        if (connection.State != HubConnectionState.Connected)
            return;
        try
        {
            await connection.InvokeAsync(AgentHubMethods.Log, lease, level, lines.ToArray(), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogDebug("Log lines of job {Job} were dropped: {Reason}", lease.JobId, e.Message);
        }
    }
}
