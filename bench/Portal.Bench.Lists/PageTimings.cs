using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

/// <summary>
/// Issue 25's page timings: the real portal process (Release, Development for the local sign-in) on the seeded
/// database, signed in through the development sign-in form, and the server render time of the main pages: the time
/// until the whole prerendered HTML of a GET has arrived (what a full page load waits for before the browser draws);
/// then the same pages walked in Chromium (<see cref="BrowserWalk"/>: full page load and in-app navigation).
/// </summary>
internal static partial class PageTimings
{
    public static async Task RunAsync(string connectionString)
    {
        var repo = RepositoryRoot();
        // PORTAL_BENCH_DLL: another build of the portal (an earlier commit, for an A/B on the same database and minutes).
        var dll = Environment.GetEnvironmentVariable("PORTAL_BENCH_DLL") ?? Path.Combine(repo, "Portal", "bin", "Release", "net10.0", "Portal.dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is missing: ./portal.sh bench-pages builds it first.");
        var root = Directory.CreateTempSubdirectory("portal-bench-pages-").FullName;
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ConnectionStrings__Portal"] = connectionString;
        start.Environment["Storage__Root"] = Path.Combine(root, "regions");
        start.Environment["Protection__KeyRingPath"] = Path.Combine(root, "keys");
        start.Environment["Jobs__MaxConcurrentJobs"] = "0";                  // serve pages only: the seeded jobs are history
        start.Environment["BackupCenter__StorageInterval"] = "1.00:00:00";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>())
            if (key is string name && name.StartsWith("Logging__", StringComparison.Ordinal) && name != "Logging__LogLevel__Default")
                start.Environment[name] = value as string; // e.g. Logging__LogLevel__Microsoft.EntityFrameworkCore.Database.Command=Information
        using var portal = Process.Start(start)!;
        // PORTAL_BENCH_PORTAL_LOG=1: the portal's own log on this console (with Logging__LogLevel__… set for what to see).
        var showLog = Environment.GetEnvironmentVariable("PORTAL_BENCH_PORTAL_LOG") == "1";
        portal.OutputDataReceived += (_, e) => { if (showLog && e.Data is { } line) Console.WriteLine("portal: " + line); };
        portal.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine("portal: " + line); };
        portal.BeginOutputReadLine();
        portal.BeginErrorReadLine();
        try
        {
            var cookies = new CookieContainer();
            using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = true })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60),
            };
            await WaitHealthyAsync(http);
            await SignInAsync(http);
            Console.WriteLine("server render time of the main pages (full prerendered HTML over HTTP, 20 runs after 3 warm-ups):   median    p95");
            var only = Environment.GetEnvironmentVariable("PORTAL_BENCH_PAGE"); // one page only, e.g. "/"
            foreach (var (name, path) in new[]
                     {
                         ("Backup center", "/"), ("vault page", "/vaults/vault-00"), ("items list", "/items"), ("jobs list", "/jobs"),
                         ("restore wizard (first step)", "/restore"), ("reports", "/reports"),
                     }.Where(p => only is null || only.Split(',').Contains(p.Item2)))
                await TimeAsync(http, name, path);
            // PORTAL_BENCH_BROWSER=0: the server render only.
            if (Environment.GetEnvironmentVariable("PORTAL_BENCH_BROWSER") != "0")
                await BrowserWalk.RunAsync(http.BaseAddress!.ToString().TrimEnd('/'));
        }
        finally
        {
            portal.Kill(entireProcessTree: true);
            await portal.WaitForExitAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task TimeAsync(HttpClient http, string name, string path)
    {
        for (var i = 0; i < 3; i++)
            await GetAsync(http, path);
        var samples = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var watch = Stopwatch.StartNew();
            await GetAsync(http, path);
            samples.Add(watch.Elapsed.TotalMilliseconds);
        }

        samples.Sort();
        Console.WriteLine($"  {name + " " + path,-60} {samples[10],6:F0} ms {samples[18],6:F0} ms");
    }

    private static async Task GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || response.RequestMessage?.RequestUri?.AbsolutePath.Contains("signin", StringComparison.Ordinal) == true)
            throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode}, at {response.RequestMessage?.RequestUri}");
        if (html.Length < 1000)
            throw new InvalidOperationException($"GET {path} answered only {html.Length} characters.");
    }

    private static async Task SignInAsync(HttpClient http)
    {
        var form = await http.GetStringAsync("/account/dev-signin?ReturnUrl=%2F");
        var fields = HiddenInput().Matches(form).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));
        fields["Input.Name"] = "Bench Reader";
        fields["Input.Contributor"] = "true";
        using var response = await http.PostAsync("/account/dev-signin?ReturnUrl=%2F", new FormUrlEncodedContent(fields));
        if (!response.IsSuccessStatusCode || response.RequestMessage?.RequestUri?.AbsolutePath.Contains("signin", StringComparison.Ordinal) == true)
            throw new InvalidOperationException($"the development sign-in did not sign in ({(int)response.StatusCode}).");
    }

    private static async Task WaitHealthyAsync(HttpClient http)
    {
        var until = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (DateTime.UtcNow > until)
                throw new TimeoutException("the portal did not answer /healthz within 3 minutes.");
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Portal.sln not found above the bench's folder.");
    }

    [GeneratedRegex("""<input[^>]*type="hidden"[^>]*name="(?<name>[^"]+)"[^>]*value="(?<value>[^"]*)"[^>]*>""")]
    private static partial Regex HiddenInput();
}
