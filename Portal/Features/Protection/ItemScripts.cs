using System.Diagnostics;
using Microsoft.Extensions.Options;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;

namespace Portal.Features.Protection;

/// <summary>What a pre- or post-backup script did.</summary>
/// <param name="ExitCode">The exit code, or null when it was stopped or could not start.</param>
public sealed record ScriptOutcome(string Which, int? ExitCode, bool TimedOut, string? StartError, TimeSpan Timeout)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>One sentence for the job's log and summary, naming the exit code.</summary>
    public string Describe() =>
        TimedOut ? $"The {Which} script did not finish within {Timeout.TotalSeconds:0} s and was stopped."
        : StartError is not null ? $"The {Which} script could not start: {StartError}"
        : ExitCode == 0 ? $"The {Which} script succeeded (exit code 0)."
        : $"The {Which} script failed with exit code {ExitCode}.";
}

/// <summary>
/// Runs an item's pre- and post-backup commands with <c>/bin/sh -c</c> as the portal's user, in the item's folder,
/// with a timeout (the whole process group is killed when it passes). Every line the script prints goes into the
/// job's log (the last <see cref="MaxLines"/> lines when it prints more).
/// </summary>
public sealed class ItemScripts(IOptions<ItemScriptOptions> options, ILogger<ItemScripts> logger)
{
    public const int MaxTimeoutSeconds = 24 * 3600;
    public const int MaxLines = 500;
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

    /// <summary>Adds each broken rule of a folder item's scripts to <paramref name="errors"/>.</summary>
    public static void Check(ScriptSettings? scripts, Dictionary<string, string> errors)
    {
        if (scripts is null) return;
        if (CheckScript(scripts.PreScript) is { } pre) errors["PreScript"] = pre;
        if (CheckScript(scripts.PostScript) is { } post) errors["PostScript"] = post;
        if (CheckTimeout(scripts.TimeoutSeconds) is { } timeout) errors["ScriptTimeoutSeconds"] = timeout;
    }

    public static string? CheckScript(string? script) =>
        script is null || script.Trim().Length == 0 ? null
        : script.Length > 4096 ? "A script command has at most 4,096 characters: put longer scripts in a file and run that."
        : script.Contains('\0') ? "A script command cannot contain NUL." : null;

    public static string? CheckTimeout(int? seconds) =>
        seconds is null or (>= 1 and <= MaxTimeoutSeconds) ? null : $"The script timeout is 1 to {MaxTimeoutSeconds} seconds.";

    public TimeSpan TimeoutFor(int? seconds) => TimeSpan.FromSeconds(seconds ?? options.Value.DefaultTimeoutSeconds);

    public async Task<ScriptOutcome> RunAsync(JobRun run, string which, string command, string workingFolder, TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = Directory.Exists(workingFolder) ? workingFolder : "/",
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment["PORTAL_JOB_ID"] = run.JobId.ToString();
        await run.LogAsync(Jobs.JobLogLevel.Info, $"Running the {which} script: {command}");
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
            await run.LogAsync(Jobs.JobLogLevel.Warning, failed.Describe());
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
            await run.LogAsync(Jobs.JobLogLevel.Info, output);
        await run.LogAsync(outcome.Succeeded ? Jobs.JobLogLevel.Info : Jobs.JobLogLevel.Warning, outcome.Describe());
        if (!outcome.Succeeded)
            logger.LogInformation("Job {Job}: {Outcome}", run.JobId, outcome.Describe());
        ct.ThrowIfCancellationRequested();
        return outcome;
    }
}

/// <summary>
/// The scripts' default timeout. Its setting is <c>Workloads:DefaultScriptTimeoutSeconds</c>, with the other workload
/// settings: AddPortalWorkloads copies it here (300 s without it).
/// </summary>
public sealed class ItemScriptOptions
{
    public int DefaultTimeoutSeconds { get; set; } = (int)ItemScripts.DefaultTimeout.TotalSeconds;
}
