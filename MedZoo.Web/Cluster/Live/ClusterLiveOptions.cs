namespace MedZoo.Web.Cluster.Live;

/// <summary>
/// How the live stream crosses machines in cluster mode: workers publish their runs' updates through SignalR's
/// Redis backplane (<see cref="ClusterLiveForwarder"/>) and every web node re-publishes them into its own
/// notifier (<see cref="ClusterLiveReceiver"/>). Both sides must use the same <see cref="Redis"/> and
/// <see cref="ChannelPrefix"/>.
/// </summary>
public sealed class ClusterLiveOptions
{
    // The configuration keys the messages name. Not a bound "Section" yet: the cluster switch that registers the stream
    // binds these settings (and then adds them to SettingsBindingTests' table).
    private const string Keys = "MedZoo:Cluster:Live";

    /// <summary>StackExchange.Redis configuration string of the backplane, e.g. <c>redis-host:6379</c>.</summary>
    public string Redis { get; set; } = "";

    /// <summary>Prefix of every Redis channel the backplane uses, so several MedZoo clusters can share one Redis. Default <c>MedZoo</c>.</summary>
    public string ChannelPrefix { get; set; } = "MedZoo";

    /// <summary>
    /// Largest message, in characters, a worker sends and a web node accepts (default 4 Mi: a slice preview of
    /// 512×512 with its ground truth is about 1 Mi as base64). Larger messages are dropped with a log line.
    /// </summary>
    public int MaxMessageChars { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Updates a worker keeps waiting for Redis (default 4096). While Redis is unreachable the oldest are dropped
    /// beyond this, so training never waits on the backplane.
    /// </summary>
    public int ForwarderCapacity { get; set; } = 4096;

    /// <summary>
    /// How often a web node sends itself a probe through Redis to check that its subscription still receives
    /// (<see cref="ClusterLiveReceiver"/>); 0 turns the check off.
    /// </summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a probe that Redis accepted may take to come back before the node concludes that its subscription was
    /// lost and subscribes again (10 s: long enough that a busy machine's slow round trip is not taken for a loss, which
    /// would cost the updates in flight while it subscribes again).
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (ProbeInterval < TimeSpan.Zero || ProbeInterval > TimeSpan.FromMinutes(10))
            throw new InvalidOperationException($"{Keys}:ProbeInterval must be between 00:00:00 (off) and 00:10:00, got {ProbeInterval}");
        if (ProbeTimeout < TimeSpan.FromMilliseconds(100) || ProbeTimeout > TimeSpan.FromMinutes(10))
            throw new InvalidOperationException($"{Keys}:ProbeTimeout must be between 00:00:00.1 and 00:10:00, got {ProbeTimeout}");
        if (string.IsNullOrWhiteSpace(Redis))
            throw new InvalidOperationException($"{Keys}:Redis must name the Redis server of the live stream, e.g. 'redis-host:6379'");
        if (string.IsNullOrWhiteSpace(ChannelPrefix) || ChannelPrefix.Length > 100)
            throw new InvalidOperationException($"{Keys}:ChannelPrefix must be 1 to 100 characters, got '{ChannelPrefix}'");
        if (MaxMessageChars is < 1024 or > 64 * 1024 * 1024)
            throw new InvalidOperationException($"{Keys}:MaxMessageChars must be between 1024 and 67108864, got {MaxMessageChars}");
        if (ForwarderCapacity is < 16 or > 1_000_000)
            throw new InvalidOperationException($"{Keys}:ForwarderCapacity must be between 16 and 1000000, got {ForwarderCapacity}");
    }
}
