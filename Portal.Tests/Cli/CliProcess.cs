using System.Diagnostics;
using Portal.Tests.Engine;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Cli;

/// <summary>The real CLI (Portal.Cli.dll, built with the tests) as a child process, with the test kit's passphrase.</summary>
public static class CliProcess
{
    public static string Dll()
    {
        var bin = Path.GetDirectoryName(typeof(CliProcess).Assembly.Location)!; // .../Portal.Tests/bin/<Configuration>/net10.0
        var configuration = Path.GetFileName(Path.GetDirectoryName(bin))!;
        return Path.Combine(Checkout.Root(), "Portal.Cli", "bin", configuration, "net10.0", "Portal.Cli.dll");
    }

    /// <summary>Starts the CLI with its output redirected (read it, or the pipe fills up).</summary>
    public static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Dll());
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PORTAL_PASSPHRASE"] = EngineTestKit.Passphrase;
        return Process.Start(start)!;
    }

    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Starts the CLI, waits until <paramref name="ready"/> holds (polled every few milliseconds), then kills it with
    /// SIGKILL, as a power cut or the OOM killer would, and waits for it to be gone. Fails if it ended by itself first.
    /// </summary>
    public static async Task KillWhenAsync(Func<bool> ready, params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!ready())
        {
            if (process.HasExited)
                Assert.Fail($"the CLI ended (exit {process.ExitCode}) before it could be killed: {await stderr}");
            if (DateTime.UtcNow > deadline) Assert.Fail("the condition to kill the CLI was not met within 60 seconds");
            await Task.Delay(5);
        }
        process.Kill(); // SIGKILL on Unix: no finally block, no lock release
        await process.WaitForExitAsync();
        await Task.WhenAll(stdout, stderr);
        Assert.NotEqual(0, process.ExitCode);
    }
}
