using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Data;

namespace Portal.Features.Common;

/// <summary>
/// Signals between the portal instances sharing one database, over PostgreSQL NOTIFY/LISTEN on one connection per
/// instance: a feature registers its channel (<see cref="ClusterSignalsExtensions.AddClusterChannel"/>), sends with
/// <see cref="SendAsync"/> and hears every instance's signals (its own included, with the sending instance's id) through <see cref="Subscribe"/>.
/// Handlers run one at a time in order of arrival; one that fails is logged and never stops the others.
/// </summary>
public sealed class ClusterSignals(IDbContextFactory<PortalDbContext> dbFactory, IEnumerable<ClusterChannel> channels, ILogger<ClusterSignals> logger)
    : BackgroundService
{
    private readonly ConcurrentDictionary<string, ImmutableHandlers> handlers = new(StringComparer.Ordinal);
    private readonly string[] names = [.. channels.Select(c => c.Name).Distinct(StringComparer.Ordinal)];

    /// <summary>This instance, as its signals name it.</summary>
    public string InstanceId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>
    /// Sends <paramref name="payload"/> on <paramref name="channel"/> to every instance. A failure is logged and swallowed
    /// (the others miss this one signal); callers send after their change committed.
    /// </summary>
    public async Task SendAsync(string channel, string payload, CancellationToken ct = default)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await SendAsync(db, channel, payload, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Other portal instances were not told on {Channel}: {Reason}", channel, e.Message);
        }
    }

    /// <summary>Sends on an open context (inside the caller's work): throws on failure.</summary>
    public Task SendAsync(PortalDbContext db, string channel, string payload, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_notify({channel}, {InstanceId + ":" + payload})", ct);

    /// <summary>Hears <paramref name="channel"/>: the handler gets the sender's instance id (compare with <see cref="InstanceId"/>) and the payload.</summary>
    public IDisposable Subscribe(string channel, Func<string, string, Task> handler)
    {
        handlers.AddOrUpdate(channel, _ => new ImmutableHandlers([handler]), (_, h) => new ImmutableHandlers([.. h.All, handler]));
        return new Unsubscriber(() => handlers.AddOrUpdate(channel, _ => new ImmutableHandlers([]), (_, h) => new ImmutableHandlers([.. h.All.Where(x => x != handler)])));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (names.Length == 0)
            return;
        var received = Channel.CreateUnbounded<(string Channel, string Payload)>(new UnboundedChannelOptions { SingleReader = true });
        var dispatch = DispatchAsync(received.Reader, stoppingToken);
        string connectionString;
        await using (var db = await dbFactory.CreateDbContextAsync(stoppingToken))
            connectionString = db.Database.GetConnectionString()!;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => received.Writer.TryWrite((e.Channel, e.Payload));
                foreach (var name in names)
                {
                    await using var listen = new NpgsqlCommand($"LISTEN \"{name}\"", connection);
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                while (!stoppingToken.IsCancellationRequested)
                    await connection.WaitAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Listening for other instances' signals failed, retrying in 5 s: {Reason}", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
        }

        await dispatch;
    }

    private async Task DispatchAsync(ChannelReader<(string Channel, string Payload)> reader, CancellationToken ct)
    {
        try
        {
            await foreach (var (channel, raw) in reader.ReadAllAsync(ct))
            {
                var colon = raw.IndexOf(':');
                if (colon < 0 || !handlers.TryGetValue(channel, out var subscribed))
                    continue;
                var sender = raw[..colon];
                foreach (var handler in subscribed.All)
                {
                    try
                    {
                        await handler(sender, raw[(colon + 1)..]);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        logger.LogWarning(e, "A handler of {Channel} failed", channel);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private sealed record ImmutableHandlers(IReadOnlyList<Func<string, string, Task>> All);

}

/// <summary>A NOTIFY channel a feature uses (a PostgreSQL identifier: lower-case letters and underscores).</summary>
public sealed record ClusterChannel(string Name);

public static class ClusterSignalsExtensions
{
    /// <summary>Listens on <paramref name="channel"/> in every instance (the one listener is added once).</summary>
    public static IServiceCollection AddClusterChannel(this IServiceCollection services, string channel)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(channel, "^[a-z_]{1,60}$"))
            throw new ArgumentException("A channel is lower-case letters and underscores.", nameof(channel));
        services.AddSingleton(new ClusterChannel(channel));
        if (services.All(d => d.ServiceType != typeof(ClusterSignals)))
        {
            services.AddSingleton<ClusterSignals>();
            services.AddHostedService(sp => sp.GetRequiredService<ClusterSignals>());
        }

        return services;
    }
}
