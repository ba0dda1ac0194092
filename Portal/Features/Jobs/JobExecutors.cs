namespace Portal.Features.Jobs;

/// <summary>The names executors go by in a job's "run by": a portal instance (<c>portal/HOST/PID/ID</c>) or a machine.</summary>
public static class JobExecutors
{
    private const string MachinePrefix = "machine/";

    /// <summary>A registered machine's agent: <c>machine/{id:N}</c>.</summary>
    public static string Machine(Guid machineId) => $"{MachinePrefix}{machineId:N}";

    /// <summary>The machine an executor id names, or null for a portal instance.</summary>
    public static Guid? MachineOf(string? executor) =>
        executor is not null && executor.StartsWith(MachinePrefix, StringComparison.Ordinal) && Guid.TryParseExact(executor[MachinePrefix.Length..], "N", out var id)
            ? id
            : null;
}
