using RLAgents.Experiments.Cli;

// The `rlagents` command: a Generic Host wires the services, System.CommandLine dispatches the verbs.
return await RLAgentsCli.RunAsync(args, Console.Out, Console.Error);
