using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Data;

namespace Portal.Features.Jobs;

/// <summary>
/// Job changes across portal instances on one database: <see cref="JobService"/> sends a PostgreSQL
/// <c>NOTIFY portal_jobs</c> after each change; this listener, in every instance, hears the others' and tells
/// its own pages and hub clients, so a job running on one instance shows live progress on another.
/// </summary>
internal sealed class JobChangeListener(
    IDbContextFactory<PortalDbContext> dbFactory, JobNotifier notifier, JobService jobs, JobCancellation cancellation, ILogger<JobChangeListener> logger)
    : BackgroundService
{
    public const string Channel = "portal_jobs";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var payloads = System.Threading.Channels.Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        var dispatch = DispatchAsync(payloads.Reader, stoppingToken);
        string connectionString;
        await using (var db = await dbFactory.CreateDbContextAsync(stoppingToken))
            connectionString = db.Database.GetConnectionString()!;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => payloads.Writer.TryWrite(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                while (!stoppingToken.IsCancellationRequested)
                    await connection.WaitAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Listening for other instances' job changes failed, retrying in 5 s: {Reason}", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
        }

        await dispatch;
    }

    private async Task DispatchAsync(ChannelReader<string> reader, CancellationToken ct)
    {
        await foreach (var payload in reader.ReadAllAsync(ct))
        {
            var parts = payload.Split(':');
            if (parts.Length != 2 || parts[0] == jobs.InstanceId.ToString("N") || !Guid.TryParse(parts[1], out var jobId))
                continue; // our own changes were told locally already
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                if (await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct) is { } job)
                {
                    if (job.Status == JobStatus.Cancelling)
                        cancellation.Cancel(job.Id); // asked on another instance; a no-op unless it runs here
                    notifier.Publish(job);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogDebug(e, "Job change {Job} from another instance not relayed", jobId);
            }
        }
    }
}
