using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// An Azurite blob service of a test's own (e2e/services/node_modules), with its data on disk so it can be
/// stopped and started again on the same port, like a region going down and coming back.
/// </summary>
public sealed partial class AzuriteProcess : IAsyncDisposable
{
    private readonly string location;
    private Process? process;

    private AzuriteProcess(string location) => this.location = location;

    public int Port { get; private set; }

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"BlobEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    public static async Task<AzuriteProcess> StartAsync()
    {
        var azurite = new AzuriteProcess(Directory.CreateTempSubdirectory("portal-azurite-").FullName);
        await azurite.RestartAsync();
        return azurite;
    }

    /// <summary>Starts the service (again), on the port it had before if it ran already.</summary>
    public async Task RestartAsync()
    {
        var executable = Path.Combine(Checkout.Root(), "e2e", "services", "node_modules", ".bin", "azurite-blob");
        if (!File.Exists(executable))
            throw new InvalidOperationException($"Azurite is not installed at {executable}: run the tests with ./portal.sh test.");
        process = Process.Start(new ProcessStartInfo(executable,
            ["--blobHost", "127.0.0.1", "--blobPort", Port.ToString(), "--location", location, "--skipApiVersionCheck", "--disableTelemetry", "--silent"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (Listening().Match(line) is { Success: true } match)
            {
                Port = int.Parse(match.Groups[1].Value);
                return;
            }
        }

        throw new InvalidOperationException($"Azurite exited before listening: {await process.StandardError.ReadToEndAsync()}");
    }

    public async Task StopAsync()
    {
        if (process is { HasExited: false })
        {
            // A graceful stop (SIGINT), so that Azurite saves its metadata as a restarted service would have it.
            using (var interrupt = Process.Start("kill", ["-INT", process.Id.ToString()]))
                await interrupt.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(timeout.Token);
        }

        process?.Dispose();
        process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(location, recursive: true);
    }

    [GeneratedRegex(@"listens on http://127\.0\.0\.1:(\d+)")]
    private static partial Regex Listening();
}
