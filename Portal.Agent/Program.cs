using Portal.Agent.Commands;
using Portal.Agent.Connection;
using Portal.Engine;
using Portal.Engine.Storage;

namespace Portal.Agent;

/// <summary>
/// <c>portal-agent COMMAND [options]</c>. Exit codes: 0 ok, 1 failure (the message says what is wrong and what to do),
/// 2 usage, 130 cancelled (Ctrl+C).
/// </summary>
internal static class AgentProgram
{
    public const string Usage = """
        portal-agent <command> [options]      the agent of a machine registered to a vault (Portal.Agent/README.md)
          register --credentials FILE [--passphrase-file FILE] [--name NAME] [--state DIR]
                                              register this machine to a vault and make its repository
          run      [--state DIR]              run the agent (the service: systemctl enable --now portal-agent)
          status   [--state DIR]              the registration, and whether the portal accepts the machine
          unregister [--state DIR] [--yes] [--local-only]
                                              the portal revokes the machine (its backups stay); its keys are deleted
          portal-agent COMMAND --help         a command's options
        state folder: --state DIR, else $PORTAL_AGENT_STATE, else /var/lib/portal-agent (owner-only: 0700)
        exit codes: 0 ok, 1 failure, 2 usage, 130 cancelled
        """;

    private static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        var command = args.Length > 0 ? args[0] : null;
        if (command != "run") // the service's host handles its own signals
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        try
        {
            return await RunAsync(args, cts.Token);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"usage error: {e.Message}. Run 'portal-agent {(command is "register" or "run" or "status" or "unregister" ? command + " " : "")}--help'.");
            return 2;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Console.Error.WriteLine("cancelled.");
            return 130;
        }
        catch (Exception e) when (e is AgentException or PortalUnreachableException or RepositoryException or StoreException)
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"{e.Message} Check the permissions and the space of the state folder.");
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message.ReplaceLineEndings(" ")}");
        return 1;
    }

    private static async Task<int> RunAsync(string[] argv, CancellationToken ct)
    {
        if (argv.Length == 0 || argv[0] is "--help" or "-h" or "help")
        {
            Console.WriteLine(Usage);
            return argv.Length == 0 ? 2 : 0;
        }

        var a = new Args(argv[1..]);
        var help = argv[0] switch
        {
            "register" => RegisterCommand.Help,
            "run" => RunCommand.Help,
            "status" => StatusCommand.Help,
            "unregister" => UnregisterCommand.Help,
            _ => throw new UsageException($"unknown command '{argv[0]}'"),
        };
        if (a.Help)
        {
            Console.WriteLine(help);
            return 0;
        }

        using var http = new HttpClient { Timeout = argv[0] == "run" ? TimeSpan.FromMinutes(10) : TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd($"portal-agent/{AgentWorker.AgentVersion}");
        return argv[0] switch
        {
            "register" => await RegisterCommand.RunAsync(a, http, ct),
            "run" => await RunCommand.RunAsync(a, http, ct),
            "status" => await StatusCommand.RunAsync(a, http, ct),
            _ => await UnregisterCommand.RunAsync(a, http, ct),
        };
    }
}
