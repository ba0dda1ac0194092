using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;

namespace Portal.Features.Verification;

/// <summary>One night's verification of a vault.</summary>
public sealed record VerificationInput(Guid VaultId);

/// <summary>
/// A vault's verification as a job: for each of its repositories (the portal host's, each machine's), the structure is
/// checked whole and the next window of packs is read and verified (restic's rotating <c>--read-data-subset</c>, in pack
/// name order), so that the nights of one <see cref="VaultVerification.PeriodDays"/> read every pack once within the
/// nightly read budget. Damage fails the job (and raises the integrity alert) with the recovery points and files it
/// affects. A check changes nothing, so a taken-over verification starts again from the recorded window.
/// </summary>
public sealed class VerificationJob(IDbContextFactory<PortalDbContext> dbFactory, VaultRepositories repositories, TimeProvider clock)
    : JobHandler<VerificationInput>
{
    public override string Name => "verify";

    public override JobKind Kind => JobKind.Check;

    protected override string Noun => "verification";

    /// <summary>The same key as a manual check: one check of a vault at a time.</summary>
    public override string ConcurrencyKey(VerificationInput input) => $"check/{input.VaultId:N}";

    public override async Task<JobOutcome> RunAsync(VerificationInput input, JobRun run, CancellationToken ct)
    {
        VaultVerification settings;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            settings = await db.VaultVerifications.AsNoTracking().FirstOrDefaultAsync(v => v.VaultId == input.VaultId, ct) ?? new VaultVerification { VaultId = input.VaultId };
        var (vault, targets) = await repositories.TargetsAsync(input.VaultId, ct);
        if (targets.Count == 0)
            return JobOutcome.Completed($"Vault {vault.Name} holds no backup data yet: nothing to verify.");

        var budget = settings.NightlyReadBudgetBytes;
        var lines = new List<string>();
        var problems = new List<string>();
        var unreached = new List<string>();
        var slow = new List<string>();
        var done = 0;
        foreach (var (name, machineId) in targets)
        {
            var key = machineId?.ToString() ?? RepositoryVerification.HostRepository;
            RepositoryVerification state;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
                state = await db.RepositoryVerifications.AsNoTracking().FirstOrDefaultAsync(r => r.VaultId == vault.Id && r.Repository == key, ct)
                        ?? new RepositoryVerification { VaultId = vault.Id, Repository = key };
            CheckResult result;
            var started = clock.GetUtcNow().UtcDateTime;
            try
            {
                using var engine = await repositories.OpenAsync(vault, machineId, ct);
                var window = new ReadDataWindow(state.Cursor, 1.0 / settings.PeriodDays, Math.Max(budget, 1));
                result = await engine.CheckAsync(new CheckOptions { Window = window },
                    new RepositoryProgress(run.ProgressAs($"Verifying {name}"), done, targets.Count), ct);
            }
            catch (Exception e) when (e is not OperationCanceledException && (e is Engine.RepositoryException || VaultFailures.Explain(e, "nothing was changed") is not null))
            {
                unreached.Add($"{name}: not verified ({(e is Engine.RepositoryException ? e.Message : VaultFailures.Explain(e, "nothing was changed"))}).");
                done++;
                continue;
            }

            done++;
            var read = result.DataRead!;
            budget -= read.BytesRead;
            await SaveAsync(state, result, started, run.JobId, ct);
            if (result.Notes.Count > 0)
                await run.LogAsync(JobLogLevel.Info, result.Notes.Select(n => $"{name}: {n}"));
            if (!result.IsHealthy)
                problems.AddRange((await CheckFindings.DescribeAsync(dbFactory, vault.Id, result.Problems, ct)).Select(p => $"{name}: {p}"));
            lines.Add($"{name}: structure of {result.Snapshots} recovery point(s) checked; read and verified {read.PacksRead} of {read.PacksTotal} pack(s) " +
                      $"({Format.Bytes(read.BytesRead)} of {Format.Bytes(read.BytesTotal)})" +
                      (read.PassCompleted ? "; every pack has now been read in this pass." : "."));
            var nightly = Math.Min(settings.NightlyReadBudgetBytes, (long)Math.Ceiling((double)read.BytesTotal / settings.PeriodDays));
            if (read.BytesTotal > 0 && settings.NightlyReadBudgetBytes * settings.PeriodDays < read.BytesTotal)
                slow.Add($"{name}: at {Format.Bytes(nightly)} a night, reading all {Format.Bytes(read.BytesTotal)} takes " +
                         $"{Math.Ceiling((double)read.BytesTotal / Math.Max(nightly, 1)):0} nights, longer than the {settings.PeriodDays}-day period.");
        }

        if (lines.Count > 0)
            await run.LogAsync(JobLogLevel.Info, lines);
        if (unreached.Count > 0)
            await run.LogAsync(JobLogLevel.Warning, unreached);
        if (slow.Count > 0)
            await run.LogAsync(JobLogLevel.Warning, slow);
        if (problems.Count > 0)
        {
            await run.LogAsync(JobLogLevel.Error, problems);
            return JobOutcome.Failed($"Verification of vault {vault.Name} found {problems.Count} damaged or missing object(s); the log names the recovery points and files they touch. " +
                                     CheckFindings.NextStep);
        }
        var summary = string.Join(" ", lines);
        if (unreached.Count > 0 || slow.Count > 0)
            return new JobOutcome(JobStatus.CompletedWithWarnings, string.Join(" ", unreached.Concat(slow).Prepend(summary).Where(s => s.Length > 0)) +
                (slow.Count > 0 ? " Raise the vault's nightly read budget or lengthen its period." : ""));
        return JobOutcome.Completed(summary.Length > 0 ? summary : "Nothing to verify.");
    }

    /// <summary>Records where the repository's pass stands: the next window, and the pass just completed.</summary>
    private async Task SaveAsync(RepositoryVerification state, CheckResult result, DateTime started, Guid jobId, CancellationToken ct)
    {
        var read = result.DataRead!;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.RepositoryVerifications.FirstOrDefaultAsync(r => r.VaultId == state.VaultId && r.Repository == state.Repository, ct);
        if (row is null)
            db.RepositoryVerifications.Add(row = new RepositoryVerification { VaultId = state.VaultId, Repository = state.Repository });
        if (row.Cursor is null)
        {
            row.PassStartedAt = started;
            row.PassBytesRead = 0;
        }
        row.PassBytesRead += read.BytesRead;
        row.Cursor = read.Next;
        if (read.PassCompleted)
        {
            row.LastPassStartedAt = row.PassStartedAt;
            row.LastPassCompletedAt = clock.GetUtcNow().UtcDateTime;
            row.PassStartedAt = null;
            row.PassBytesRead = 0;
        }
        row.LastCheckedAt = clock.GetUtcNow().UtcDateTime;
        row.LastJobId = jobId;
        row.LastProblems = result.Problems.Count;
        row.PacksTotal = read.PacksTotal;
        row.BytesTotal = read.BytesTotal;
        await db.SaveChangesAsync(ct);
    }

    protected override string Cancelled(VerificationInput input) => "Cancelled; a verification changes nothing, and the next one reads from where the last finished window ended.";

    protected override string? Explain(Exception e, VerificationInput input) => VaultFailures.Explain(e, "a verification changes nothing, so it runs again the next night");

    /// <summary>Each repository's check as its share of the whole job's progress (packs as they are when the vault has one repository).</summary>
    private sealed class RepositoryProgress(IProgress<Engine.Progress.OperationProgress> job, int done, int count) : IProgress<Engine.Progress.OperationProgress>
    {
        public void Report(Engine.Progress.OperationProgress p) => job.Report(count == 1 ? p : p with
        {
            FilesDone = (long)((done + (p.FilesTotal > 0 ? (double)p.FilesDone / p.FilesTotal : 0)) * 1000 / count),
            FilesTotal = 1000,
            IsFinal = p.IsFinal && done + 1 == count,
        });
    }
}
