namespace MedZoo.Web.Cluster.Live;

/// <summary>
/// This node's name on the cluster live stream, new at every start: the forwarder stamps it on what it sends and
/// the receiver of the same node drops messages that carry it, so a node that both forwards and receives never
/// loops its own updates back (and nodes sharing a process, as in tests, still tell each other apart).
/// </summary>
public sealed class ClusterLiveOrigin
{
    /// <summary>Process id and a random part, e.g. <c>4242-3f2a…</c>.</summary>
    public string Name { get; } = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
}
