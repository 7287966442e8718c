using Microsoft.AspNetCore.SignalR;

namespace MedZoo.Web.Cluster.Live;

/// <summary>
/// The hub through which workers reach web nodes. It is never mapped to a URL: its only connections are each web
/// node's own in-process receiver (<see cref="ClusterLiveReceiver"/>), and workers send to all of them with
/// <c>IHubContext&lt;ClusterLiveHub, IClusterLiveClient&gt;</c>, which SignalR's Redis backplane carries to every
/// node. No browser or external client can connect to it, so it needs no sign-in.
/// </summary>
public sealed class ClusterLiveHub : Hub<IClusterLiveClient>;

/// <summary>What a web node's receiver gets from workers.</summary>
public interface IClusterLiveClient
{
    /// <summary>One run update, encoded by <see cref="ClusterLiveMessage.Encode"/>.</summary>
    Task Update(string message);
}
