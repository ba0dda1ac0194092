using System.Diagnostics;

namespace Portal.E2E;

/// <summary>The published portal process, started the way an operator starts it, with bad configuration.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task An_unreachable_database_gives_one_clear_line_and_a_non_zero_exit()
    {
        var (exitCode, stdout, stderr) = await RunPortalAsync(("ConnectionStrings__Portal", "Host=127.0.0.1;Port=1;Username=postgres;Password=s3cret-pass;Database=portal"));

        Assert.Equal(2, exitCode);
        Assert.Equal(
            "portal: cannot start: The portal database at 127.0.0.1:1/portal did not answer (Connection refused). " +
            "Check ConnectionStrings:Portal and that PostgreSQL is running.",
            stderr.Trim());
        Assert.DoesNotContain("   at ", stdout + stderr);
        Assert.DoesNotContain("s3cret-pass", stdout + stderr);
    }

    [Fact]
    public async Task A_missing_connection_string_says_how_to_get_one()
    {
        var (exitCode, _, stderr) = await RunPortalAsync(("ConnectionStrings__Portal", ""));

        Assert.Equal(2, exitCode);
        Assert.Contains("ConnectionStrings:Portal is not set", stderr);
    }

    [Fact]
    public async Task A_region_paired_with_an_unknown_region_is_named_before_anything_starts()
    {
        var (exitCode, _, stderr) = await RunPortalAsync(
            ("ConnectionStrings__Portal", "Host=127.0.0.1;Port=1;Database=portal"),
            ("Storage__Regions__0__PairedRegion", "atlantis"));

        Assert.Equal(2, exitCode);
        Assert.Contains("Region \"east\" is paired with \"atlantis\", which is not a configured region.", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task A_malformed_telemetry_endpoint_says_what_to_give()
    {
        var (exitCode, _, stderr) = await RunPortalAsync(
            ("ConnectionStrings__Portal", "Host=127.0.0.1;Port=1;Database=portal"), ("OpenTelemetry__OtlpEndpoint", "collector:4318"));

        Assert.Equal(2, exitCode);
        Assert.Contains("OpenTelemetry:OtlpEndpoint 'collector:4318' is not an http(s) URL", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task Outside_Development_without_Entra_configured_the_portal_refuses_to_start()
    {
        var (exitCode, _, stderr) = await RunPortalAsync(
            ("ASPNETCORE_ENVIRONMENT", "Production"), ("ConnectionStrings__Portal", "Host=127.0.0.1;Port=1;Database=portal"));

        Assert.Equal(2, exitCode);
        Assert.Contains("Sign-in is not configured", stderr);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunPortalAsync(params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet", [PortalDll(), "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(PortalDll())!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The portal as built beside these tests: Portal/bin/{configuration}/net10.0/Portal.dll.</summary>
    private static string PortalDll()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = output.Parent!.Name;
        var repo = output.Parent.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(repo, "Portal", "bin", configuration, output.Name, "Portal.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"The portal is not built at {dll}: run ./portal.sh test.");
    }
}
