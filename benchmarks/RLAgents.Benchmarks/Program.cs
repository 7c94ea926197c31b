using BenchmarkDotNet.Running;

// Bench commands that are not BenchmarkDotNet suites:
//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- gridworld-bot [episodes] [level ...]
if (args is ["gridworld-bot", .. var botArgs])
{
    RLAgents.Benchmarks.GridWorld.BotBenchCommand.Run(botArgs);
    return;
}

// BenchmarkDotNet suites: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
