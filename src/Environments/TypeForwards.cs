using System.Runtime.CompilerServices;

// Types a plug-in can see moved to RLAgents.Core with their full names unchanged: plug-ins built
// against an earlier RLAgents.Environments keep loading, and their sources keep compiling.
[assembly: TypeForwardedTo(typeof(RLAgents.Environments.Rng))]
[assembly: TypeForwardedTo(typeof(RLAgents.Environments.RngState))]
[assembly: TypeForwardedTo(typeof(RLAgents.Environments.Configuration.ConfigurationException))]
[assembly: TypeForwardedTo(typeof(RLAgents.Environments.Configuration.OptionsBinder))]
