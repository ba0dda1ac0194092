using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Features.Common;
using Portal.Features.Protection;

namespace Portal.Features.Machines;

/// <summary>
/// The folders of a machine, for the folder picker of its items: asked of its agent over its control connection
/// (<see cref="AgentClientMethods.ListFolders"/>, a SignalR client result) by the instance holding that connection. Any
/// other instance asks the holder through <see cref="ClusterSignals"/> (<see cref="Channel"/>) and hears the checked
/// listing back in chunks (NOTIFY carries under 8,000 bytes). The machine's answer is checked where it arrives
/// (<see cref="FolderAnswers"/>); an offline machine, a silent one and a bad answer each say so in words.
/// </summary>
internal sealed class MachineFolders(
    AgentConnections connections,
    IHubContext<AgentHub> hub,
    ClusterSignals cluster,
    IDbContextFactory<PortalDbContext> dbFactory,
    TimeProvider clock,
    ILogger<MachineFolders> logger) : IHostedService
{
    public const string Channel = "portal_machine_folders";

    /// <summary>How long the holder waits for the agent (the agent itself answers within about 5 s).</summary>
    public static readonly TimeSpan AgentTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long an instance waits for the holder's relayed answer.</summary>
    public static readonly TimeSpan RelayTimeout = TimeSpan.FromSeconds(15);

    private const int ChunkChars = 6000;
    private readonly ConcurrentDictionary<Guid, Pending> pending = new();
    private IDisposable? subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        subscription = cluster.Subscribe(Channel, OnSignalAsync);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        subscription?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>The folders one level below <paramref name="path"/> on the machine (null: its roots); throws <see cref="MachineFolderException"/> with words.</summary>
    public async Task<FolderListing> ListAsync(Guid machineId, string? path, int max, CancellationToken ct)
    {
        Machine? machine;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            machine = await db.Machines.AsNoTracking().FirstOrDefaultAsync(m => m.Id == machineId, ct);
        if (machine is null || machine.IsRevoked)
            throw new MachineFolderException("That machine is not registered to the vault any more.");
        string? asked = null;
        if (path is not null)
        {
            if (ProtectionRules.CheckMachinePath(path, machine.Name, out var full) is { } problem)
                throw new MachineFolderException(problem);
            asked = full;
        }

        if (connections.Of(machineId).Count > 0)
            return await AskAgentAsync(machine.Name, machineId, asked, max, ct);
        if (!MachinePresence.IsOnline(machine, clock.GetUtcNow().UtcDateTime))
            throw new MachineFolderException($"{machine.Name} is offline" +
                                             (MachinePresence.OfflineSince(machine) is { } since ? $" since {since:yyyy-MM-dd HH:mm} UTC" : " (it never connected)") +
                                             ": its folders cannot be listed. Type the folder's path.");
        return await RelayAsync(machine.Name, machineId, asked, max, ct);
    }

    private async Task<FolderListing> AskAgentAsync(string name, Guid machineId, string? asked, int max, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(AgentTimeout);
        FolderListResponse? answer;
        try
        {
            var connection = connections.Of(machineId).FirstOrDefault() ?? throw new MachineFolderException($"{name} has just gone offline: type the folder's path.");
            answer = await hub.Clients.Client(connection).InvokeAsync<FolderListResponse>(AgentClientMethods.ListFolders, new FolderListRequest(asked, max), timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new MachineFolderException($"{name} did not list its folders within {AgentTimeout.TotalSeconds:0} seconds. Type the folder's path.");
        }
        catch (Exception e) when (e is not (OperationCanceledException or MachineFolderException))
        {
            // A dropped connection, an agent without the message (an older agent), an answer that is not the contract's shape.
            logger.LogInformation("Listing folders on machine {Machine} failed: {Reason}", machineId, e.Message);
            throw new MachineFolderException($"{name} could not list its folders (its agent may be older than this portal, or it has just disconnected). Type the folder's path.");
        }

        return FolderAnswers.Check(name, asked, max, answer);
    }

    private async Task<FolderListing> RelayAsync(string name, Guid machineId, string? asked, int max, CancellationToken ct)
    {
        var id = Guid.NewGuid();
        var waiting = new Pending();
        pending[id] = waiting;
        try
        {
            var encodedPath = asked is null ? "-" : Convert.ToBase64String(Encoding.UTF8.GetBytes(asked));
            await cluster.SendAsync(Channel, $"ask:{id:N}:{machineId:N}:{max}:{encodedPath}", ct);
            string json;
            try
            {
                json = await waiting.Answer.Task.WaitAsync(RelayTimeout, ct);
            }
            catch (TimeoutException)
            {
                throw new MachineFolderException($"{name} did not list its folders: the portal instance holding its connection did not answer. Type the folder's path.");
            }

            var relayed = JsonSerializer.Deserialize<Relayed>(json)!;
            return relayed.Listing ?? throw new MachineFolderException(relayed.Error ?? $"{name} could not list its folders. Type the folder's path.");
        }
        finally
        {
            pending.TryRemove(id, out _);
        }
    }

    private Task OnSignalAsync(string sender, string payload)
    {
        var parts = payload.Split(':');
        if (parts is ["ask", var request, var machine, var max, var path] && Guid.TryParse(request, out var requestId) &&
            Guid.TryParse(machine, out var machineId) && int.TryParse(max, out var limit) && connections.Of(machineId).Count > 0)
            _ = Task.Run(() => AnswerAsync(requestId, machineId, path == "-" ? null : Encoding.UTF8.GetString(Convert.FromBase64String(path)), limit));
        else if (parts is ["answer", var answered, var index, var count, var chunk] && Guid.TryParse(answered, out var answeredId) &&
                 pending.TryGetValue(answeredId, out var waiting) && int.TryParse(index, out var i) && int.TryParse(count, out var n))
            waiting.Add(sender, i, n, chunk);
        return Task.CompletedTask;
    }

    private async Task AnswerAsync(Guid requestId, Guid machineId, string? path, int max)
    {
        Relayed relayed;
        try
        {
            relayed = new Relayed(await ListAsync(machineId, path, Math.Clamp(max, 1, SourceFolders.Limit), CancellationToken.None), null);
        }
        catch (MachineFolderException e)
        {
            relayed = new Relayed(null, e.Message);
        }
        catch (Exception e)
        {
            logger.LogWarning("Listing folders on machine {Machine} for another instance failed: {Reason}", machineId, e.Message);
            relayed = new Relayed(null, "The portal could not list the machine's folders. Type the folder's path.");
        }

        var encoded = Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(relayed));
        var chunks = Enumerable.Range(0, Math.Max(1, (encoded.Length + ChunkChars - 1) / ChunkChars))
            .Select(i => encoded.Substring(i * ChunkChars, Math.Min(ChunkChars, encoded.Length - i * ChunkChars))).ToList();
        for (var i = 0; i < chunks.Count; i++)
            await cluster.SendAsync(Channel, $"answer:{requestId:N}:{i}:{chunks.Count}:{chunks[i]}");
    }

    /// <summary>What the holder relays: the checked listing, or why there is none.</summary>
    private sealed record Relayed(FolderListing? Listing, string? Error);

    /// <summary>An answer arriving in chunks from one instance (the first that answers).</summary>
    private sealed class Pending
    {
        private readonly Lock gate = new();
        private string? from;
        private string?[]? chunks;

        public TaskCompletionSource<string> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Add(string sender, int index, int count, string chunk)
        {
            lock (gate)
            {
                from ??= sender;
                if (from != sender || count is < 1 or > 1000)
                    return;
                chunks ??= new string?[count];
                if (chunks.Length != count || index < 0 || index >= count)
                    return;
                chunks[index] = chunk;
                if (chunks.All(c => c is not null))
                    Answer.TrySetResult(Encoding.UTF8.GetString(Convert.FromBase64String(string.Concat(chunks))));
            }
        }
    }
}
