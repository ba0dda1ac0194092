using System.Text.Json;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Progress;

namespace Portal.Cli;

internal static partial class Commands
{
    private static async Task<int> RunCommandAsync(string command, Args a, BackupEngine engine, bool json, IProgress<OperationProgress>? progress,
        RegionsOf? regionsOf, CancellationToken ct)
    {
        switch (command)
        {
            case "backup":
            {
                PathFilter filter;
                try { filter = PathFilter.Create(a.All("--include"), a.All("--exclude")); }
                catch (ArgumentException e) { throw new UsageException(e.Message); }
                var request = new BackupRequest(a.Require("--source")) { Tags = a.All("--tag"), Filter = filter };
                a.EnsureAllUsed();
                var r = await engine.BackupAsync(request, progress, ct);
                Print(json, r, $"snapshot {r.SnapshotId[..8]} saved: {r.Files} files, {r.Directories} folders, {TerminalProgress.Size(r.Bytes)}; " +
                    $"read {r.FilesRead}, unchanged {r.FilesUnchanged}; added {TerminalProgress.Size(r.BytesAdded)}");
                if (!json) foreach (var w in r.Warnings) Console.Error.WriteLine($"warning: {w}");
                return r.Status == OperationStatus.Completed ? 0 : 3;
            }
            case "restore":
            {
                var snapshot = a.Get("--snapshot") ?? a.Positional.FirstOrDefault() ?? throw new UsageException("missing --snapshot");
                string target;
                if (a.Flag("--in-place"))
                {
                    var all = await engine.ListSnapshotsAsync(cancellationToken: ct);
                    var s = snapshot == "latest" ? all.LastOrDefault() : all.SingleOrDefault(x => x.Id.StartsWith(snapshot, StringComparison.Ordinal));
                    target = s?.Paths.FirstOrDefault() ?? throw new SnapshotNotFoundException(snapshot);
                }
                else target = a.Require("--target");
                var conflict = (a.Get("--conflict") ?? "overwrite") switch
                {
                    "overwrite" => RestoreConflict.Overwrite,
                    "copy" => RestoreConflict.CreateCopy,
                    "skip" => RestoreConflict.Skip,
                    var other => throw new UsageException($"--conflict must be overwrite, copy or skip, not '{other}'"),
                };
                var request = new RestoreRequest(snapshot, target) { Include = a.All("--include"), Conflict = conflict, Sparse = a.Flag("--sparse"), Resume = a.Flag("--resume") };
                a.EnsureAllUsed();
                var r = await engine.RestoreAsync(request, progress, ct);
                Print(json, r, $"restored {r.FilesRestored} files ({TerminalProgress.Size(r.BytesRestored)}) to {Path.GetFullPath(target)}" +
                    (r.Skipped > 0 ? $", skipped {r.Skipped} existing" : "") +
                    (r.FilesAlreadyComplete > 0 ? $", kept {r.FilesAlreadyComplete} already complete" : ""));
                if (!json) foreach (var w in r.Warnings) Console.Error.WriteLine($"warning: {w}");
                if (!json) foreach (var e in r.Errors) Console.Error.WriteLine($"error: {e}");
                return r.Status == OperationStatus.Completed ? 0 : 1;
            }
            case "snapshots":
            {
                a.EnsureAllUsed();
                var list = await engine.ListSnapshotsAsync(cancellationToken: ct);
                string Line(SnapshotInfo s) =>
                    $"{s.ShortId}  {s.Time.ToLocalTime():yyyy-MM-dd HH:mm:ss}  {s.Host}  {string.Join(",", s.Paths)}  {s.Files} files  {TerminalProgress.Size(s.Bytes)}  {s.Status}";
                if (regionsOf is null)
                {
                    Print(json, list, string.Join(Environment.NewLine, list.Select(Line).Prepend($"{list.Count} snapshot(s)")));
                    return 0;
                }
                // A portal vault: mark which regions hold each recovery point (a GRS secondary lags behind its primary).
                var marked = new List<(SnapshotInfo Snapshot, IReadOnlyList<string> Regions)>();
                foreach (var s in list) marked.Add((s, await regionsOf("snapshots/" + s.Id, ct)));
                Print(json, marked.Select(m => new { snapshot = m.Snapshot, regions = m.Regions }),
                    string.Join(Environment.NewLine, marked.Select(m => $"{Line(m.Snapshot)}  in: {string.Join(",", m.Regions)}").Prepend($"{list.Count} snapshot(s)")));
                return 0;
            }
            case "ls":
            {
                var snapshot = a.Get("--snapshot") ?? a.Positional.FirstOrDefault() ?? throw new UsageException("missing --snapshot");
                var path = a.Get("--path");
                a.EnsureAllUsed();
                // Streamed: the first lines of a huge tree appear at once, and a damaged folder stops the listing where it is.
                var entries = engine.StreamTreeAsync(snapshot, path, cancellationToken: ct);
                await using var stdout = Console.OpenStandardOutput();
                if (json)
                {
                    await JsonSerializer.SerializeAsync(stdout, entries, Json, ct);
                    await stdout.WriteAsync("\n"u8.ToArray(), ct);
                    return 0;
                }

                await using var writer = new StreamWriter(stdout, bufferSize: 64 * 1024);
                var lines = 0;
                await foreach (var e in entries)
                {
                    await writer.WriteLineAsync($"{Type(e.Type)} {Convert.ToString(e.Mode, 8).PadLeft(4, '0')} {e.Size,12} {e.ModifiedUtc.ToLocalTime():yyyy-MM-dd HH:mm} {e.Path}" +
                        (e.LinkTarget is null ? "" : $" -> {e.LinkTarget}"));
                    if (++lines % 512 == 0)
                        await writer.FlushAsync(ct);
                }
                return 0;
            }
            case "diff":
            {
                a.EnsureAllUsed();
                if (a.Positional.Count != 2) throw new UsageException("diff needs two snapshot ids");
                var d = await engine.DiffAsync(a.Positional[0], a.Positional[1], cancellationToken: ct);
                Print(json, d, string.Join(Environment.NewLine, d.Select(e => $"{e.Kind switch { DiffKind.Added => '+', DiffKind.Removed => '-', _ => 'M' }} {e.Path}")));
                return 0;
            }
            case "check":
            {
                var readData = a.Flag("--read-data");
                var subset = Subset(a.Get("--read-data-subset"));
                if (readData && subset is not null) throw new UsageException("give --read-data (all data) or --read-data-subset n/m, not both");
                a.EnsureAllUsed();
                var r = await engine.CheckAsync(new CheckOptions { ReadData = readData, Subset = subset }, progress, ct);
                var text = r.IsHealthy
                    ? $"no problems found ({r.Snapshots} snapshots, {r.Packs} packs{(readData || subset is not null ? $", {r.BlobsVerified} blobs verified" : "")})"
                    : string.Join(Environment.NewLine, r.Problems.SelectMany(p => p.Files.Select(f => $"  affects {f}")
                        .Prepend($"damaged: {p.ObjectName}: {p.Problem}")));
                Print(json, r, text);
                if (!json) foreach (var n in r.Notes) Console.Error.WriteLine($"note: {n}");
                return r.IsHealthy ? 0 : 1;
            }
            case "forget":
            {
                a.EnsureAllUsed();
                if (a.Positional.Count == 0) throw new UsageException("forget needs snapshot ids");
                var removed = await engine.ForgetAsync(a.Positional, cancellationToken: ct);
                Print(json, removed, string.Join(Environment.NewLine, removed.Select(id => $"removed snapshot {id[..8]}")));
                return 0;
            }
            case "prune":
            {
                a.EnsureAllUsed();
                var r = await engine.PruneAsync(progress, ct);
                Print(json, r, $"deleted {r.PacksDeleted} packs ({r.PacksRepacked} repacked), freed {TerminalProgress.Size(r.BytesFreed)}" +
                    (r.PacksKeptInGrace > 0 ? $"; kept {r.PacksKeptInGrace} recent unindexed packs" : ""));
                return 0;
            }
            case "repair":
            {
                var what = a.Positional.FirstOrDefault() ?? throw new UsageException("repair needs what to repair: index or snapshots");
                var readData = a.Flag("--read-data");
                a.EnsureAllUsed();
                if (a.Positional.Count > 1) throw new UsageException("repair takes one word: index or snapshots");
                if (what == "index")
                {
                    if (readData) throw new UsageException("--read-data goes with repair snapshots");
                    var r = await engine.RepairIndexAsync(ct);
                    Print(json, r, $"indexed {r.PacksIndexed} packs ({r.BlobsIndexed} chunks and folder listings); removed {r.OldIndexesRemoved} old index objects");
                    if (!json) foreach (var u in r.Unreadable) Console.Error.WriteLine($"warning: {u}");
                    return r.Unreadable.Count == 0 ? 0 : 3;
                }
                if (what == "snapshots")
                {
                    var r = await engine.RepairSnapshotsAsync(readData, ct);
                    var lines = r.Repaired.SelectMany(s => s.Removed.Select(f => $"  left out (data gone): {f}")
                            .Prepend($"snapshot {s.OldId[..8]} rewritten as {s.NewId[..8]} (tagged repaired), {s.Removed.Count} entries left out:"))
                        .Prepend($"checked {r.SnapshotsChecked} snapshots, rewrote {r.Repaired.Count}");
                    Print(json, r, string.Join(Environment.NewLine, lines));
                    if (!json) foreach (var u in r.Unrepairable) Console.Error.WriteLine($"warning: {u}");
                    return r.Unrepairable.Count == 0 ? 0 : 3;
                }
                throw new UsageException($"unknown repair '{what}': index or snapshots");
            }
            case "unlock":
            {
                var force = a.Flag("--force");
                a.EnsureAllUsed();
                var r = await engine.UnlockAsync(force, ct);
                static string Line(LockInfo l) => $"{l.Operation} on {l.Host} (pid {l.Pid}) since {l.Since.ToLocalTime():yyyy-MM-dd HH:mm:ss}";
                var lines = r.Removed.Select(l => l.IsStale ? $"removed stale lock: {Line(l)} ({l.StaleBecause})" : $"removed live lock: {Line(l)}")
                    .Prepend($"removed {r.Removed.Count} lock(s)").ToList();
                Print(json, r, string.Join(Environment.NewLine, lines));
                if (!json)
                {
                    foreach (var l in r.Removed.Where(l => !l.IsStale))
                        Console.Error.WriteLine($"warning: removed the lock of {Line(l)}, which may still be running: if it is, a prune can now delete data it writes; stop it first.");
                    foreach (var l in r.KeptLive)
                        Console.Error.WriteLine($"note: kept the live lock of {Line(l)}; it goes away when that operation ends. Use --force only if you know it is not running.");
                }
                return 0;
            }
            case "passwd":
            {
                var newPass = a.Get("--new-passphrase-file") is { } f ? ReadPassphraseFile(f)
                    : Environment.GetEnvironmentVariable("PORTAL_NEW_PASSPHRASE") is { Length: > 0 } env ? env
                    : throw new UsageException("give the new passphrase with --new-passphrase-file FILE or PORTAL_NEW_PASSPHRASE");
                a.EnsureAllUsed();
                await engine.ChangePassphraseAsync(newPass, cancellationToken: ct);
                Print(json, new { changed = true }, "passphrase changed");
                return 0;
            }
            default:
                throw new UsageException($"unknown command '{command}'");
        }
    }

    /// <summary>"n/m" as restic writes it (1 ≤ n ≤ m ≤ 10000), or null when the option is absent.</summary>
    private static ReadDataSubset? Subset(string? value)
    {
        if (value is null) return null;
        var parts = value.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out var n) && int.TryParse(parts[1], out var m) && n >= 1 && m <= 10_000 && n <= m)
            return new ReadDataSubset(n, m);
        throw new UsageException($"--read-data-subset needs n/m with 1 <= n <= m <= 10000 (for example 1/7 on Mondays, 2/7 on Tuesdays …), not \"{value}\"");
    }

    private static char Type(EntryType t) => t switch { EntryType.Directory => 'd', EntryType.Symlink => 'l', _ => '-' };
}
