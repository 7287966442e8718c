using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace MedZoo.Web.Cluster.Live;

/// <summary>
/// The hub through which workers reach web nodes. It is never mapped to a URL: its only connections are each web
/// node's own in-process receiver (<see cref="ClusterLiveReceiver"/>), and workers send to all of them with
/// <c>IHubContext&lt;ClusterLiveHub, IClusterLiveClient&gt;</c>, which SignalR's Redis backplane carries to every
/// node. No browser or external client can connect to it, so it needs no sign-in ([AllowAnonymous] also keeps the
/// session filter, which closes connections whose account changed, away from it).
/// </summary>
[AllowAnonymous]
public sealed class ClusterLiveHub : Hub<IClusterLiveClient>
{
    /// <summary>
    /// The group every node's receiver joins and workers send to (leaving and joining it unsubscribes and subscribes
    /// its Redis channel: a receiver's new connection renews the subscription).
    /// </summary>
    public const string NodesGroup = "nodes";

    /// <inheritdoc />
    public override Task OnConnectedAsync() => Groups.AddToGroupAsync(Context.ConnectionId, NodesGroup);
}

/// <summary>What a web node's receiver gets from workers.</summary>
public interface IClusterLiveClient
{
    /// <summary>One run update, encoded by <see cref="ClusterLiveMessage.Encode"/>.</summary>
    Task Update(string message);

    /// <summary>
    /// A web node's check of its own subscription: it sends a probe to every node through the backplane and expects
    /// its own back (<see cref="ClusterLiveReceiver"/>); the text is the sending node's name, a colon and a number.
    /// </summary>
    Task Probe(string probe);
}
