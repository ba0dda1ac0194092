using System.Diagnostics;
using Portal.Engine.Agents;

namespace Portal.Agent.Jobs;

/// <summary>What a pre- or post-backup script did (as the portal's ItemScripts words it).</summary>
/// <param name="Which">"pre-backup" or "post-backup".</param>
/// <param name="ExitCode">The exit code, or null when it was stopped or could not start.</param>
/// <param name="TimedOut">It ran past its timeout and was killed.</param>
/// <param name="StartError">Why it could not start.</param>
/// <param name="Timeout">Its timeout.</param>
internal sealed record ScriptOutcome(string Which, int? ExitCode, bool TimedOut, string? StartError, TimeSpan Timeout)
{
    /// <summary>It exited with code 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>One sentence for the job's log and summary, naming the exit code.</summary>
    public string Describe() =>
        TimedOut ? $"The {Which} script did not finish within {Timeout.TotalSeconds:0} s and was stopped."
        : StartError is not null ? $"The {Which} script could not start: {StartError}"
        : ExitCode == 0 ? $"The {Which} script succeeded (exit code 0)."
        : $"The {Which} script failed with exit code {ExitCode}.";
}

/// <summary>
/// Runs a backup's pre- and post-backup commands on this machine exactly as the portal runs an item's on its host:
/// <c>/bin/sh -c COMMAND</c> as the agent's user, in the backed-up folder (or <c>/</c> when it is missing), with
/// <c>PORTAL_JOB_ID</c> set, no input, and a timeout after which the whole process tree is killed. Every line it prints
/// goes into the job's log (the last <see cref="MaxLines"/> when it prints more).
/// </summary>
internal static class AgentScripts
{
    /// <summary>Lines of a script's output kept for the job's log.</summary>
    public const int MaxLines = 500;

    /// <summary>The timeout when the job gives none (the portal's default).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

    /// <summary>Runs <paramref name="command"/>; cancelling <paramref name="ct"/> kills it (and then throws).</summary>
    public static async Task<ScriptOutcome> RunAsync(IJobChannel channel, Guid jobId, string which, string command, string workingFolder, TimeSpan timeout,
        CancellationToken ct)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = Directory.Exists(workingFolder) ? workingFolder : "/",
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment["PORTAL_JOB_ID"] = jobId.ToString();
        await channel.LogAsync(AgentLogLevel.Info, [$"Running the {which} script: {command}"], CancellationToken.None);
        var lines = new Queue<string>();
        var dropped = 0;
        void Add(string? line)
        {
            if (line is null) return;
            lock (lines)
            {
                lines.Enqueue($"{which}: {line}");
                if (lines.Count > MaxLines) { lines.Dequeue(); dropped++; }
            }
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            var failed = new ScriptOutcome(which, null, false, e.Message, timeout);
            await channel.LogAsync(AgentLogLevel.Warning, [failed.Describe()], CancellationToken.None);
            return failed;
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = !ct.IsCancellationRequested;
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None);
        }

        process.WaitForExit(); // drains the output readers
        var outcome = new ScriptOutcome(which, timedOut || ct.IsCancellationRequested ? null : process.ExitCode, timedOut, null, timeout);
        List<string> output;
        lock (lines) output = [.. lines];
        if (dropped > 0)
            output.Insert(0, $"{which}: ({dropped} earlier lines not kept)");
        if (output.Count > 0)
            await channel.LogAsync(AgentLogLevel.Info, output, CancellationToken.None);
        await channel.LogAsync(outcome.Succeeded ? AgentLogLevel.Info : AgentLogLevel.Warning, [outcome.Describe()], CancellationToken.None);
        ct.ThrowIfCancellationRequested();
        return outcome;
    }
}
