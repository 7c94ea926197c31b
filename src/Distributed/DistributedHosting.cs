using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;

namespace RLAgents.Distributed;

/// <summary>
/// Hosting of the learner silo and of rollout-worker clients. Clustering is configuration: with an
/// <c>Orleans:Clustering:ProviderType</c> in the host's configuration (e.g. the environment variables
/// <c>Orleans__Clustering__ProviderType=Redis</c>, <c>Orleans__Clustering__ConnectionString=host:6379</c>)
/// Orleans' configured provider is used; without one the learner is a one-silo development cluster at
/// <c>distributed.host:siloPort</c> and workers reach its gateway at the address they are given.
/// </summary>
public static class DistributedHosting
{
    /// <summary>Orleans cluster and service id of every RLAgents cluster.</summary>
    public const string ClusterId = "rlagents";

    /// <summary>The configuration key that selects a clustering provider.</summary>
    public const string ClusteringProviderKey = "Orleans:Clustering:ProviderType";

    /// <summary>Adds the learner silo serving <paramref name="learner"/> to <paramref name="builder"/>.</summary>
    public static IHostApplicationBuilder AddLearnerSilo(this IHostApplicationBuilder builder, Learner learner, DistributedOptions options)
    {
        builder.Services.AddSingleton(learner);
        bool configured = !string.IsNullOrEmpty(builder.Configuration[ClusteringProviderKey]);
        var address = Resolve(options.Host, "distributed.host");
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, ClusterId));
            silo.ConfigureEndpoints(address, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(address));
            if (!configured) silo.UseDevelopmentClustering(new IPEndPoint(address, options.SiloPort));
            // Batches are plain byte arrays; allow a generous message size for large observation batches.
            silo.Configure<SiloMessagingOptions>(o => o.MaxMessageBodySize = 1 << 30);
        });
        return builder;
    }

    /// <summary>
    /// A host with an Orleans client that reaches the learner at <paramref name="learner"/> (HOST:PORT of its gateway),
    /// or through the configured clustering provider when <paramref name="configuration"/> names one; a call unanswered
    /// after <paramref name="responseTimeout"/> fails (a dead learner is noticed then).
    /// </summary>
    public static IHost BuildWorkerClient(string learner, TimeSpan responseTimeout, IConfiguration? configuration = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
        if (configuration is not null) builder.Configuration.AddConfiguration(configuration);
        bool configured = !string.IsNullOrEmpty(builder.Configuration[ClusteringProviderKey]);
        var gateway = configured ? null : ParseEndpoint(learner);
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, ClusterId));
            if (gateway is not null) client.UseStaticClustering(gateway);
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = responseTimeout);
        });
        return builder.Build();
    }

    /// <summary>Parses HOST:PORT (a name or an address); one line naming the value when it is not one.</summary>
    public static IPEndPoint ParseEndpoint(string value)
    {
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), out int port) || port is < 1 or > 65535)
            throw new ConfigurationException("--learner", $"'{value}' is not HOST:PORT (the learner's distributed.host and distributed.gatewayPort)");
        return new IPEndPoint(Resolve(value[..colon], "--learner"), port);
    }

    private static IPAddress Resolve(string host, string key)
    {
        if (IPAddress.TryParse(host, out var address)) return address;
        try
        {
            return Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                ?? throw new ConfigurationException(key, $"host '{host}' has no IPv4 address");
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new ConfigurationException(key, $"host '{host}' does not resolve ({e.Message})");
        }
    }
}
