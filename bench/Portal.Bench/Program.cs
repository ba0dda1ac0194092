using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Portal.Bench.ChunkPathBenchmarks).Assembly).Run(args);
