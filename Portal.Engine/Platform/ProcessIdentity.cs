using System.Globalization;

namespace Portal.Engine.Platform;

/// <summary>Whether the process that wrote a lock still runs, as far as this machine can tell.</summary>
internal enum ProcessState
{
    /// <summary>The same process (pid and start time) runs in this machine's process space.</summary>
    Running,
    /// <summary>It ran in this machine's process space and has ended (no such pid, a zombie, or the pid now belongs to a later process).</summary>
    Ended,
    /// <summary>Another machine, container or boot, or a system without <c>/proc</c>: only the lock's age can tell.</summary>
    Unknown,
}

/// <summary>
/// Names a process precisely enough that another process on the same machine can tell whether it still runs: the
/// process space (the boot's id and the pid namespace, so two containers with the same host name, or the same machine
/// after a reboot, never judge each other's pids) and the process's start time (so a pid reused by a later process is
/// not taken for the lock's owner). Linux only (<c>/proc</c>); elsewhere every answer is <see cref="ProcessState.Unknown"/>.
/// </summary>
internal static class ProcessIdentity
{
    /// <summary>This machine's process space ("boot-id/pid:[inode]"), or null where it cannot be known.</summary>
    public static string? Space { get; } = ReadSpace();

    /// <summary>This process's start time in the form <see cref="StartOf(int)"/> returns, or null.</summary>
    public static string? CurrentStart { get; } = Space is null ? null : StartOf(Environment.ProcessId, out _);

    /// <summary>
    /// Whether the process <paramref name="pid"/> that started at <paramref name="start"/> in process space
    /// <paramref name="space"/> still runs. Unknown unless <paramref name="space"/> is this machine's own.
    /// </summary>
    public static ProcessState Check(string? space, int pid, string? start)
    {
        if (Space is null || space is null || start is null || space != Space || pid <= 0) return ProcessState.Unknown;
        var now = StartOf(pid, out var zombie);
        if (now is null || zombie || now != start) return ProcessState.Ended;
        return ProcessState.Running;
    }

    /// <summary>When process <paramref name="pid"/> started (opaque, comparable within one boot), or null when it does not run.</summary>
    public static string? StartOf(int pid) => Space is not null && StartOf(pid, out var zombie) is { } start && !zombie ? start : null;

    /// <summary>Field 22 of <c>/proc/PID/stat</c> (start time in clock ticks since boot), or null when there is no such process.</summary>
    private static string? StartOf(int pid, out bool zombie)
    {
        zombie = false;
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted after the last ')'.
        var end = stat.LastIndexOf(')');
        if (end < 0) return null;
        var fields = stat[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 20) return null;
        zombie = fields[0] is "Z" or "X" or "x"; // a killed process its parent has not reaped yet has ended
        return fields[19]; // field 3 is fields[0], so field 22 is fields[19]
    }

    private static string? ReadSpace()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            var pidNamespace = new FileInfo("/proc/self/ns/pid").LinkTarget;
            return boot.Length == 0 || pidNamespace is null ? null : $"{boot}/{pidNamespace}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
