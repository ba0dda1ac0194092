using System.Diagnostics;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// The real portal as a separate process (<c>dotnet Portal.dll</c>, Development, a loopback port) on the test database
/// and a <see cref="ProtectionHost"/>'s folders: an instance of the cluster that a test can kill with SIGKILL.
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly System.Text.StringBuilder output = new();

    private PortalProcess(Process process) => this.process = process;

    public int Id => process.Id;

    /// <summary>Where the portal listens (http://127.0.0.1:PORT), as it said when it started.</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>What the process wrote so far (for a failing test's message).</summary>
    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    public static async Task<PortalProcess> StartAsync(TestDatabase database, string root, IReadOnlyDictionary<string, string>? settings = null, int port = 0,
        int? singleReplicas = null)
    {
        var dll = PortalDll();
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__Portal"] = database.ConnectionString,
            ["Storage__Root"] = Path.Combine(root, "regions"),
            ["Protection__SourceRoots__0"] = Path.Combine(root, "sources"),
            ["Protection__SourceRoots__1"] = Path.Combine(root, "sources"),
            ["Protection__KeyRingPath"] = Path.Combine(root, "keys"),
            ["Protection__KdfMemoryKiB"] = "1024",
            ["Protection__KdfIterations"] = "1",
            ["Protection__RetentionCron"] = "0 0 3 1 1 ? 2099",
            ["Restore__Roots__0"] = Path.Combine(root, "restores"),
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        // The replicas as TestRegions lays them out (ProtectionHost's regions): east, west and central, three folders each.
        string[] regions = ["east", "west", "central"];
        for (var r = 0; r < regions.Length; r++)
            for (var i = 0; i < 3; i++)
                environment[$"Storage__Regions__{r}__Replicas__{i}__Path"] = $"{regions[r]}/{i + 1}";
        // A fourth region of its own (appsettings.json lists three replicas for each of the first three, which settings
        // can override but not remove).
        if (singleReplicas is { } count)
        {
            environment["Storage__Regions__3__Name"] = "single";
            for (var i = 0; i < count; i++)
                environment[$"Storage__Regions__3__Replicas__{i}__Path"] = $"single/{i + 1}";
        }

        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
            environment[name] = value;
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        var process = Process.Start(start)!;
        var portal = new PortalProcess(process);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null)
                return;
            lock (portal.output)
                portal.output.AppendLine(e.Data);
            if (e.Data.IndexOf("Now listening on: ", StringComparison.Ordinal) is >= 0 and var at)
                portal.Url = new Uri(e.Data[(at + "Now listening on: ".Length)..].Trim());
            if (e.Data.Contains("Application started", StringComparison.Ordinal))
                started.TrySetResult();
        }

        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(started.Task, exited, Task.Delay(TimeSpan.FromSeconds(90))) != started.Task)
        {
            await portal.DisposeAsync();
            throw new InvalidOperationException($"The portal process did not start:\n{portal.Output}");
        }

        return portal;
    }

    /// <summary>Kills the process at once (SIGKILL): nothing of it runs any more, as when a host dies.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
            await KillAsync();
        process.Dispose();
    }

    /// <summary>The portal as built beside these tests (or the bench that uses them): Portal/bin/{configuration}/net10.0/Portal.dll.</summary>
    private static string PortalDll()
    {
        var output = new DirectoryInfo(Path.GetDirectoryName(typeof(PortalProcess).Assembly.Location)!);
        var configuration = output.Parent!.Name;
        var dll = Path.Combine(Checkout.Root(), "Portal", "bin", configuration, output.Name, "Portal.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"The portal is not built at {dll}: run ./portal.sh test.");
    }
}
