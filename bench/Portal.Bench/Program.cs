using BenchmarkDotNet.Running;

switch (args)
{
    case ["index-probe", var dir]:
        await Portal.Bench.IndexProbe.RunAsync(dir, Environment.GetEnvironmentVariable("PORTAL_PASSPHRASE")!);
        return;
    case ["index-scale", ..] when args.Length <= 3:
        Portal.Bench.IndexScale.Run(args.Length > 1 ? int.Parse(args[1]) : 10_000_000, args.Length > 2 ? int.Parse(args[2]) : 5);
        return;
    case ["open-scale", var repo, var chunks]:
        await Portal.Bench.OpenScale.RunAsync(repo, int.Parse(chunks), Environment.GetEnvironmentVariable("PORTAL_PASSPHRASE") ?? "");
        return;
    case ["order3", var dir]:
        Portal.Bench.ContextModelProbe.Run(dir);
        return;
    case ["levels", var dir, ..] when args.Length <= 3:
        Portal.Bench.CompressionProbe.Run(dir, args.Length > 2 ? [.. args[2].Split(',').Select(int.Parse)] : [1, 3, 6]);
        return;
    case ["probe", var dir]:
        Portal.Bench.StageProbe.Run(dir);
        return;
    case ["regions", var source, var primaryPort, var secondaryPort]:
        // PRIMARY_PORT may list three ports (one Azurite, that is one storage account, per replica): "10160,10162,10163".
        await Portal.Bench.RegionBench.RunAsync(source, [.. primaryPort.Split(',').Select(int.Parse)], int.Parse(secondaryPort));
        return;
    case ["drill-rto", var repo, var scratch, ..] when args.Length <= 4:
        await Portal.Bench.DrillRto.RunAsync(repo, scratch, args.Length > 3 ? int.Parse(args[3]) : 3, Environment.GetEnvironmentVariable("PORTAL_PASSPHRASE") ?? "");
        return;
    case ["points-make", var repo, var source, var n]:
        await Portal.Bench.PointsScale.MakeAsync(repo, source, int.Parse(n), Environment.GetEnvironmentVariable("PORTAL_PASSPHRASE") ?? "");
        return;
    case ["points-forget", var repo]:
        await Portal.Bench.PointsScale.ForgetAsync(repo, Environment.GetEnvironmentVariable("PORTAL_PASSPHRASE") ?? "");
        return;
    case ["stats", var repo]:
        await Portal.Bench.RepoStats.RunAsync(repo, Environment.GetEnvironmentVariable("PORTAL_PASSPHRASE") ?? "");
        return;
}
BenchmarkSwitcher.FromAssembly(typeof(Portal.Bench.ChunkPathBenchmarks).Assembly).Run(args);
