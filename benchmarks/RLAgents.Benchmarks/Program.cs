using BenchmarkDotNet.Running;

// Bench commands that are not BenchmarkDotNet suites:
//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- gridworld-bot [episodes] [level ...]
if (args is ["gridworld-bot", .. var botArgs])
{
    RLAgents.Benchmarks.GridWorld.BotBenchCommand.Run(botArgs);
    return;
}

//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- episode-logs [cartpoleSteps] [gridSteps]
if (args is ["episode-logs", .. var logArgs])
{
    RLAgents.Benchmarks.EpisodeLogs.EpisodeLogBenchCommand.Run(logArgs);
    return;
}

// BenchmarkDotNet suites: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
