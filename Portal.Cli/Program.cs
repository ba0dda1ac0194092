using System.Text.Json;
using System.Text.Json.Serialization;
using Portal.Cli;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Engine.Replication;
using Portal.Engine.Storage;

// Exit codes: 0 ok, 1 failure (also: check found problems, restore incomplete), 2 usage,
// 3 backup completed with warnings, 10 no repository, 11 locked, 12 wrong passphrase, 130 cancelled.
Portal.Engine.Platform.ProcessMemory.LimitNativeArenas(); // first: arenas made before it stay
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
try
{
    return await Commands.RunAsync(args, cts.Token);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"usage error: {e.Message}. Run 'portal --help'.");
    return 2;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled; the repository is consistent and the next backup reuses what was stored.");
    return 130;
}
catch (WrongPassphraseException e) { return Fail(e.Message, 12); }
catch (RepositoryNotFoundException e) { return Fail(e.Message, 10); }
catch (RepositoryLockedException e) { return Fail(e.Message, 11); }
catch (RepositoryException e) { return Fail(e.Message, 1); }
catch (ArgumentException e)
{
    return Fail(e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal), 1);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or StoreException or NotSupportedException)
{
    return Fail(e.Message, 1);
}
catch (Exception e)
{
    return Fail($"{e.GetType().Name}: {e.Message}", 1);
}

static int Fail(string message, int code)
{
    Console.Error.WriteLine($"error: {message.ReplaceLineEndings(" ")}");
    return code;
}

namespace Portal.Cli
{
    internal static partial class Commands
    {
        public const string Usage = """
            portal <command> --repo DIR [options]     (passphrase: PORTAL_PASSPHRASE or --passphrase-file F)
            portal <command> --config appsettings.json --vault ID [--machine ID] [--region NAME|primary|secondary] [--vault-region NAME] [options]
                                              a portal vault through the portal's Storage:Regions configuration, without
                                              the portal (--region secondary: the paired region's copy, cross-region restore;
                                              --machine: a registered machine's repository, with that machine's passphrase)
              init                                    create a repository
              backup   --source DIR [--tag T]... [--exclude GLOB]... [--include GLOB]...
                                              back up a folder (glob: *.tmp, node_modules, docs/**/*.pdf)
              restore  --snapshot ID|latest --target DIR [--include PATH]... [--conflict overwrite|copy|skip] [--sparse] [--resume]
                       (or --in-place instead of --target: back to the original folder; --sparse: zeros as holes;
                       --resume: keep files an earlier restore completed, verified by content)
              snapshots                               list snapshots
              ls       --snapshot ID|latest [--path P] list a snapshot's items
              diff     ID1 ID2                        what changed between two snapshots
              check    [--read-data | --read-data-subset n/m]
                                              verify structure (and all data, or subset n of m of the packs)
              forget   ID...                          remove snapshots (data stays until prune)
              prune                                   delete data no snapshot needs
              repair index                           rebuild the index from the packs (stale or damaged index objects)
              repair snapshots [--read-data]         rewrite snapshots without files whose data is gone (tagged repaired)
              unlock   [--force]                      remove stale locks (of ended processes, or not refreshed for 30 min);
                                              --force also removes live ones: only if their operation is known dead
              passwd   --new-passphrase-file F        change the passphrase (or PORTAL_NEW_PASSPHRASE)
              replicate --config F --vault ID --vault-region NAME [--progress-lines]
                                              copy the vault to its region's pair (GRS), no passphrase needed
            common: --json (machine-readable output), --quiet (no progress)
            exit codes: 0 ok, 1 failure, 2 usage, 3 backup with warnings, 10 no repository, 11 locked,
                        12 wrong passphrase, 130 cancelled
            """;

        internal static readonly JsonSerializerOptions Json = new()
        {
            WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            Converters = { new JsonStringEnumConverter() },
        };

        public static async Task<int> RunAsync(string[] argv, CancellationToken ct)
        {
            if (argv.Length == 0 || argv[0] is "--help" or "-h" or "help")
            {
                Console.WriteLine(Usage);
                return argv.Length == 0 ? 2 : 0;
            }
            var command = argv[0];
            var a = new Args(argv[1..]);
            var json = a.Flag("--json");
            var quiet = a.Flag("--quiet") || json || Console.IsErrorRedirected;
            if (command == "init")
            {
                var local = new LocalDirectoryStore(a.Require("--repo"));
                var pass = Passphrase(a);
                a.EnsureAllUsed();
                using var created = await BackupEngine.InitAsync(local, pass, cancellationToken: ct);
                Print(json, new { repository = created.RepositoryId, location = local.Root }, $"created repository {created.RepositoryId} at {local.Root}");
                return 0;
            }
            if (command == "replicate") return await ReplicateAsync(a, json, ct);
            if (!Known(command)) throw new UsageException($"unknown command '{command}'");
            var (store, region, regionsOf) = await OpenStoreAsync(a, ct);
            if (region is not null && !quiet) Console.Error.WriteLine($"region: {region}");
            using var engine = await BackupEngine.OpenAsync(store, Passphrase(a), cancellationToken: ct);
            foreach (var w in engine.OpenWarnings) Console.Error.WriteLine($"warning: {w}");
            // Argon2 just filled tens of MiB of managed memory on purpose; give it back before the real work
            // (in this short-lived process it would otherwise stay resident and add to the operation's peak).
            // Not done in the engine: in the portal a full compacting collection per job would pause everyone.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            var progress = quiet ? null : new TerminalProgress();
            try
            {
                return await RunCommandAsync(command, a, engine, json, progress, regionsOf, ct);
            }
            finally
            {
                progress?.Clear();
            }
        }

        /// <summary>--repo DIR, or the portal's configuration with --config FILE --vault ID [--region NAME|primary|secondary] [--vault-region NAME].</summary>
        private static async Task<(IObjectStore Store, string? Region, RegionsOf? RegionsOf)> OpenStoreAsync(Args a, CancellationToken ct)
        {
            var repo = a.Get("--repo");
            var config = a.Get("--config");
            if (repo is not null && config is not null) throw new UsageException("give either --repo or --config with --vault, not both");
            if (repo is not null) return (new LocalDirectoryStore(repo), null, null);
            if (config is null) throw new UsageException("missing --repo (or --config FILE with --vault ID)");
            var regions = VaultRegions.Load(config);
            var vault = a.Require("--vault");
            if (a.Get("--machine") is { } machine)
                regions.Machine = VaultRegions.MachineId(machine); // a registered machine's own repository in the vault
            var (store, region) = await regions.OpenAsync(vault, a.Get("--region"), a.Get("--vault-region"), ct);
            return (store, region, (name, token) => regions.RegionsHoldingAsync(vault, name, token));
        }

        /// <summary>
        /// replicate --config F --vault ID --vault-region NAME: one GRS pass of a vault to its region's pair, as the portal's
        /// replication service does (diff of listings, repository order), without the portal. Needs no passphrase: it copies
        /// opaque objects. --progress-lines prints "copied N/M" after each object (for scripts).
        /// </summary>
        private static async Task<int> ReplicateAsync(Args a, bool json, CancellationToken ct)
        {
            var regions = VaultRegions.Load(a.Require("--config"));
            var vaultId = VaultRegions.VaultId(a.Require("--vault"));
            var own = regions.Find(a.Require("--vault-region"));
            var pair = regions.Find(own.PairedRegion ?? throw new UsageException($"region {own.Name} has no paired region: there is nothing to replicate to"));
            var lines = a.Flag("--progress-lines");
            a.EnsureAllUsed();
            var replicator = new RegionReplicator(regions.Vault(own, vaultId), regions.Vault(pair, vaultId));
            var progress = lines ? new SynchronousProgress<ReplicationProgress>(p => Console.Out.WriteLine($"copied {p.ObjectsDone}/{p.ObjectsTotal}")) : null;
            var r = await replicator.ReplicateAsync(progress, ct);
            Print(json, new { from = own.Name, to = pair.Name, objectsCopied = r.ObjectsCopied, bytesCopied = r.BytesCopied, objectsRemoved = r.ObjectsRemoved },
                $"{own.Name} -> {pair.Name}: copied {r.ObjectsCopied} objects ({TerminalProgress.Size(r.BytesCopied)}), removed {r.ObjectsRemoved} stale");
            return 0;
        }

        private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
        {
            public void Report(T value) => report(value);
        }

        private static bool Known(string c) => c is "backup" or "restore" or "snapshots" or "ls" or "diff" or "check" or "forget" or "prune" or "passwd" or "unlock" or "repair";

        private static string Passphrase(Args a)
        {
            if (a.Get("--passphrase-file") is { } file) return ReadPassphraseFile(file);
            return Environment.GetEnvironmentVariable("PORTAL_PASSPHRASE") is { Length: > 0 } env
                ? env
                : throw new UsageException("no passphrase: set PORTAL_PASSPHRASE or use --passphrase-file FILE");
        }

        internal static string ReadPassphraseFile(string file)
        {
            try { return File.ReadAllText(file).TrimEnd('\r', '\n'); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"cannot read passphrase file '{file}'");
            }
        }

        internal static void Print(bool json, object value, string text)
        {
            Console.WriteLine(json ? JsonSerializer.Serialize(value, Json) : text);
        }
    }

    /// <summary>The regions whose copy of the vault holds an object (with --config: the listing marks where each point exists).</summary>
    internal delegate Task<IReadOnlyList<string>> RegionsOf(string objectName, CancellationToken ct);

    /// <summary>Progress on the terminal (stderr), at most four updates a second.</summary>
    internal sealed class TerminalProgress : IProgress<OperationProgress>
    {
        private long _last;
        private bool _shown;

        public void Report(OperationProgress p)
        {
            var now = Environment.TickCount64;
            if (!p.IsFinal && now - Interlocked.Read(ref _last) < 250) return; // the final report always shows
            Interlocked.Exchange(ref _last, now);
            var files = p.FilesTotal > 0 ? $"{p.FilesDone}/{p.FilesTotal} files" : $"{p.FilesDone} files";
            var bytes = p.BytesTotal > 0 ? $" {Size(p.BytesDone)}/{Size(p.BytesTotal)}" : "";
            lock (this)
            {
                Console.Error.Write($"\r{p.Phase.ToString().ToLowerInvariant()}: {files}{bytes}".PadRight(60));
                _shown = true;
            }
        }

        public void Clear()
        {
            lock (this) if (_shown) Console.Error.Write("\r" + new string(' ', 60) + "\r");
        }

        public static string Size(long b) => b switch
        {
            >= 1L << 30 => $"{b / (double)(1L << 30):0.00} GiB",
            >= 1L << 20 => $"{b / (double)(1L << 20):0.0} MiB",
            >= 1L << 10 => $"{b / 1024.0:0.0} KiB",
            _ => $"{b} B",
        };
    }
}
