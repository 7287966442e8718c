using MedZoo.Web.Live;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Web.Cluster.Live;

/// <summary>
/// Registers the two ends of the cluster live stream. Both put <see cref="ClusterLiveHub"/>, and only it, on SignalR's
/// Redis backplane.
/// </summary>
public static class ClusterLiveExtensions
{
    /// <summary>
    /// For a worker process (it serves no SignalR clients): forwards every update of its <see cref="RunNotifier"/>
    /// to the web nodes (<see cref="ClusterLiveForwarder"/>). Requires <see cref="RunNotifier"/> to be registered.
    /// </summary>
    public static IServiceCollection AddClusterLiveForwarding(this IServiceCollection services, Action<ClusterLiveOptions> configure)
    {
        AddBackplane(services, configure);
        services.AddSingleton<ClusterLiveForwarder>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterLiveForwarder>());
        return services;
    }

    /// <summary>
    /// For a web node: receives the workers' updates into its <see cref="RunNotifier"/> (<see cref="ClusterLiveReceiver"/>).
    /// Requires <see cref="RunNotifier"/> to be registered.
    /// </summary>
    public static IServiceCollection AddClusterLiveReceiving(this IServiceCollection services, Action<ClusterLiveOptions> configure)
    {
        AddBackplane(services, configure);
        services.AddSingleton<InProcessHubConnectionFactory<ClusterLiveHub>>();
        services.AddSingleton<ClusterLiveReceiver>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterLiveReceiver>());
        return services;
    }

    private static void AddBackplane(IServiceCollection services, Action<ClusterLiveOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        // A web node both receives and forwards: the backplane is registered once, with the first call's settings.
        if (services.Any(d => d.ServiceType == typeof(IOptions<ClusterLiveOptions>))) return;
        var options = new ClusterLiveOptions();
        configure(options);
        options.Validate();
        services.AddSingleton(Options.Create(options));
        services.TryAddSingleton<ClusterLiveOrigin>();
        services.AddSignalR().AddJsonProtocol(o => LiveJson.Configure(o.PayloadSerializerOptions)).AddStackExchangeRedis(o =>
        {
            o.Configuration = ConfigurationOptions.Parse(options.Redis);
            o.Configuration.ChannelPrefix = RedisChannel.Literal(options.ChannelPrefix);
            // Start without Redis and keep trying: a node must come up (and serve history) while Redis restarts.
            o.Configuration.AbortOnConnectFail = false;
            // Try every second rather than backing off exponentially: after a Redis restart the stream resumes within
            // about a second instead of after the next, up to ten seconds later, attempt.
            o.Configuration.ReconnectRetryPolicy = new LinearRetry(1000);
        });
    }
}
