using BenchmarkDotNet.Running;

switch (args)
{
    case ["probe", var dir]:
        Portal.Bench.StageProbe.Run(dir);
        return;
    case ["stats", var repo]:
        await Portal.Bench.RepoStats.RunAsync(repo, Environment.GetEnvironmentVariable("PORTAL_PASSPHRASE") ?? "");
        return;
}
BenchmarkSwitcher.FromAssembly(typeof(Portal.Bench.ChunkPathBenchmarks).Assembly).Run(args);
