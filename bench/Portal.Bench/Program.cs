using BenchmarkDotNet.Running;

switch (args)
{
    case ["probe", var dir]:
        Portal.Bench.StageProbe.Run(dir);
        return;
    case ["regions", var source, var primaryPort, var secondaryPort]:
        await Portal.Bench.RegionBench.RunAsync(source, int.Parse(primaryPort), int.Parse(secondaryPort));
        return;
    case ["stats", var repo]:
        await Portal.Bench.RepoStats.RunAsync(repo, Environment.GetEnvironmentVariable("PORTAL_PASSPHRASE") ?? "");
        return;
}
BenchmarkSwitcher.FromAssembly(typeof(Portal.Bench.ChunkPathBenchmarks).Assembly).Run(args);
