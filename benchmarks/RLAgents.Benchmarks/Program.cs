using BenchmarkDotNet.Running;

// BenchmarkDotNet suites: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
