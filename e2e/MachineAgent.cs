using System.Diagnostics;
using System.Text;

namespace Portal.E2E;

/// <summary>
/// A real Portal.Agent process (the build's <c>Portal.Agent.dll</c>) standing in for one machine: its own state folder,
/// registered with a credentials file the browser downloaded, then <c>run</c> (connected out to the portal).
/// </summary>
public sealed class MachineAgent : IAsyncDisposable
{
    private readonly StringBuilder output = new();
    private readonly TaskCompletionSource connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process? running;

    private readonly List<(string Text, TaskCompletionSource Seen)> awaited = [];

    private MachineAgent(string name, string state)
    {
        Name = name;
        State = state;
    }

    public string Name { get; }

    /// <summary>The agent's state folder (its keys and registration).</summary>
    public string State { get; }

    /// <summary>What the agent wrote so far (for a failing test's message).</summary>
    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    /// <summary><c>portal-agent register --credentials FILE --passphrase-file F --name NAME --state DIR</c>; fails the test with its output if it exits non-zero.</summary>
    public static async Task<MachineAgent> RegisterAsync(string name, string credentialsFile, string passphrase, string folder)
    {
        var state = Path.Combine(folder, "state");
        var passphraseFile = Path.Combine(folder, "passphrase");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(passphraseFile, passphrase + "\n");
        using var process = Process.Start(StartInfo("register", "--credentials", credentialsFile, "--passphrase-file", passphraseFile, "--name", name, "--state", state))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(limit.Token);
        Assert.True(process.ExitCode == 0, $"register {name} exited {process.ExitCode}: {await stderr}\n{await stdout}");
        return new MachineAgent(name, state);
    }

    /// <summary><c>portal-agent run --state DIR</c>, returning when the agent says it is connected to the portal (its Hello was answered).</summary>
    public async Task RunAsync()
    {
        running = Process.Start(StartInfo("run", "--state", State))!;
        running.StandardInput.Close();
        void OnLine(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null)
                return;
            lock (output)
            {
                output.AppendLine(e.Data);
                foreach (var (text, seen) in awaited)
                    if (e.Data.Contains(text, StringComparison.Ordinal))
                        seen.TrySetResult();
            }

            if (e.Data.Contains("Connected to the portal at", StringComparison.Ordinal))
                connected.TrySetResult();
        }

        running.OutputDataReceived += OnLine;
        running.ErrorDataReceived += OnLine;
        running.BeginOutputReadLine();
        running.BeginErrorReadLine();
        var exited = running.WaitForExitAsync();
        var first = await Task.WhenAny(connected.Task, exited).WaitAsync(TimeSpan.FromSeconds(60));
        if (first != connected.Task)
            throw new InvalidOperationException($"The agent of {Name} exited before it connected:\n{Output}");
    }

    /// <summary>Resolves when the running agent writes a line containing <paramref name="text"/> (at once if it already did).</summary>
    public async Task SaysAsync(string text, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (output)
        {
            if (output.ToString().Contains(text, StringComparison.Ordinal))
                return;
            awaited.Add((text, seen));
        }

        try
        {
            await seen.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The agent of {Name} did not say \"{text}\" within {timeout.TotalSeconds:0} s:\n{Output}");
        }
    }

    private static ProcessStartInfo StartInfo(params string[] args)
    {
        // e2e/bin/<Configuration>/net10.0: the agent of the same configuration, built with the solution.
        var configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))!;
        var dll = Path.Combine(TestEnvironment.RepositoryRoot(), "Portal.Agent", "bin", configuration, "net10.0", "Portal.Agent.dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is missing: build the solution (dotnet build Portal.sln) first.");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment.Remove("PORTAL_AGENT_STATE");
        return start;
    }

    public async ValueTask DisposeAsync()
    {
        if (running is null)
            return;
        if (!running.HasExited)
            running.Kill(entireProcessTree: true);
        await running.WaitForExitAsync();
        running.Dispose();
    }
}
