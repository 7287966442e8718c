namespace MedZoo.Web.Runs.Placement;

/// <summary>A <c>medzoo worker</c> process as its last heartbeat described it.</summary>
public sealed record WorkerInfo
{
    /// <summary>Unique name (<c>--name</c>, default host and process id).</summary>
    public required string Name { get; init; }
    public string Host { get; init; } = "";
    public int ProcessId { get; init; }
    /// <summary>Devices it trains on ("cuda:0", "cpu").</summary>
    public IReadOnlyList<string> Devices { get; init; } = [];
    /// <summary>Queues it takes runs from ("gpu", "cpu").</summary>
    public IReadOnlyList<string> Queues { get; init; } = [];
    /// <summary>Runs it trains now, with the device each uses.</summary>
    public IReadOnlyList<WorkerRun> Runs { get; init; } = [];
    /// <summary>Runs it can train at once (devices × runs per device).</summary>
    public int Capacity { get; init; }
    /// <summary>Time of the last heartbeat (the database's clock).</summary>
    public DateTime LastSeen { get; init; }
    /// <summary>Seconds since the last heartbeat, measured by the database when read (no clock skew between machines).</summary>
    public double HeartbeatAgeSeconds { get; init; }

    /// <summary>Runs trained now as a fraction of <see cref="Capacity"/>.</summary>
    public double Load => Capacity == 0 ? 0 : (double)Runs.Count / Capacity;
}

/// <summary>One run a worker trains, and on which of its devices.</summary>
public sealed record WorkerRun(string RunId, string Device);

/// <summary>
/// The worker registry: every worker writes its heartbeat every few seconds; the Workers page and the placement of
/// "auto" runs read it. A worker whose heartbeat is older than <see cref="LostAfter"/> is shown as lost.
/// </summary>
public interface IWorkerStore
{
    /// <summary>Heartbeat age after which a worker counts as gone (a killed process writes no goodbye).</summary>
    static readonly TimeSpan LostAfter = TimeSpan.FromSeconds(15);

    /// <summary>Writes (or replaces) a worker's row, its last-seen time set to now by the database.</summary>
    void Beat(WorkerInfo worker);

    /// <summary>Every worker that ever beat and has not signed off, by name.</summary>
    IReadOnlyList<WorkerInfo> List();

    /// <summary>Removes a worker's row (a worker stopping gracefully, or an admin forgetting a lost one).</summary>
    bool Remove(string name);
}
