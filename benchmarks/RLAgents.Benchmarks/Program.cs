using BenchmarkDotNet.Running;
using RLAgents.Benchmarks.Agents;

// The bench commands measure with the native heap the training runners use (RLAgents.LanguageModel.NativeHeap).
RLAgents.LanguageModel.NativeHeap.Apply();

// Learning-speed bench: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --bench-learning <config.json> [--seeds N]
if (args.Length > 0 && args[0] == LearningBench.Command) return LearningBench.Run(args[1..]);

// BabyAI variants and fusion-mode latency: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- babyai-comparison [--only a,b]
if (args.Length > 0 && args[0] == RLAgents.Benchmarks.Multimodal.BabyAiComparison.Command) return RLAgents.Benchmarks.Multimodal.BabyAiComparison.Run(args[1..]);

// Language transfer (scratch GPT, own-pretrained GPT, MiniLM frozen and LoRA; in distribution, paraphrased, held-out; acting latency):
//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- language-transfer [--seeds 1,2,3] [--parallel 2] [--latency-only]
if (args.Length > 0 && args[0] == RLAgents.Benchmarks.Multimodal.LanguageTransfer.Command) return RLAgents.Benchmarks.Multimodal.LanguageTransfer.Run(args[1..]);

// Acting latency of the multimodal Transformer per fusion mode, acting cache off and on (issue 16):
//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- acting-latency [--config experiments/configs/babyai-gotolocal-sft-ppo.json] [--fusion early,late,crossAttention]
if (args.Length > 0 && args[0] == RLAgents.Benchmarks.Multimodal.ActingLatency.Command) return RLAgents.Benchmarks.Multimodal.ActingLatency.Run(args[1..]);

// Distributed training (Orleans): CartPole PPO steps/s and time-to-475 with 1, 2, 4 worker processes; a spinning env's speed-up per worker:
//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- distributed [--workers 1,2,4] [--spin-us 500] [--rlagents experiments/bin/Release/net10.0/rlagents]
if (args.Length > 0 && args[0] == RLAgents.Benchmarks.Distributed.DistributedBench.Command) return RLAgents.Benchmarks.Distributed.DistributedBench.Run(args[1..]);

// Bench commands that are not BenchmarkDotNet suites:
//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- gridworld-bot [episodes] [level ...]
if (args is ["gridworld-bot", .. var botArgs])
{
    RLAgents.Benchmarks.GridWorld.BotBenchCommand.Run(botArgs);
    return 0;
}

//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- gridworld-throughput [rounds] [level ...]
if (args is ["gridworld-throughput", .. var throughputArgs])
{
    RLAgents.Benchmarks.GridWorld.ThroughputBenchCommand.Run(throughputArgs);
    return 0;
}

//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- lm [--threads 1,2] [--steps 20]   (language-model tokens/s and MFU; OMP_WAIT_POLICY=PASSIVE on a busy machine)
if (args is ["lm", .. var lmArgs]) return RLAgents.Benchmarks.LanguageModel.LanguageModelBench.Run(lmArgs);
//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- text-encoder [--model all-MiniLM-L6-v2] [--threads 1,2] [--repeats 20]   (pretrained encoder latency on 16 missions: batched, cached cold/warm, ONNX Runtime)
if (args is [RLAgents.Benchmarks.LanguageModel.TextEncoderBench.Command, .. var encoderArgs]) return RLAgents.Benchmarks.LanguageModel.TextEncoderBench.Run(encoderArgs);
//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- serving [--backend torch|onnx] [--seconds 2] [--clients 1,16,64] [--only mlp|transformer]   (policy server under load on loopback)
if (args is [RLAgents.Benchmarks.Serving.ServingBench.Command, .. var servingArgs]) return RLAgents.Benchmarks.Serving.ServingBench.Run(servingArgs);
//   dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- episode-logs [cartpoleSteps] [gridSteps] [ppoCartpoleSteps]
if (args is ["episode-logs", .. var logArgs])
{
    RLAgents.Benchmarks.EpisodeLogs.EpisodeLogBenchCommand.Run(logArgs);
    return 0;
}

// BenchmarkDotNet suites: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
