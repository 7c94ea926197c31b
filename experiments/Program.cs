using RLAgents.Experiments.Cli;

// MKL's reproducible mode is requested before anything computes (it fixes its mode at its first call).
RLAgents.LanguageModel.ReproducibleMath.RequestThroughEnvironment();

// The `rlagents` command: a Generic Host wires the services, System.CommandLine dispatches the verbs.
return await RLAgentsCli.RunAsync(args, Console.Out, Console.Error);
