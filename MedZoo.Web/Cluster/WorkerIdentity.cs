using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cluster;

/// <summary>
/// One <c>medzoo worker</c> process: its name, devices and queues, and the device slots its runs hold. Hangfire runs
/// <see cref="WorkerOptions.RunsPerDevice"/> jobs per device of a queue's kind at once, so a job always finds a free slot.
/// </summary>
public sealed class WorkerIdentity
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<string>> _slots; // device -> run ids on it

    /// <summary>The identity of a worker with validated <paramref name="options"/>.</summary>
    public WorkerIdentity(WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Name = options.Name!;
        _slots = options.Devices.ToDictionary(d => d, _ => new List<string>(), StringComparer.Ordinal);
    }

    /// <summary>The worker's settings.</summary>
    public WorkerOptions Options { get; }

    /// <summary>Unique name shown on the Workers page and in run events.</summary>
    public string Name { get; }

    /// <summary>Runs this worker trains at once at most.</summary>
    public int Capacity => Options.Devices.Count * Options.RunsPerDevice;

    /// <summary>Takes the least used device of <paramref name="queue"/>'s kind for <paramref name="runId"/>.</summary>
    /// <exception cref="InvalidOperationException">Every such device is full (more jobs than slots: a bug in the server setup).</exception>
    public string Acquire(string queue, string runId)
    {
        lock (_gate)
        {
            var device = _slots.Where(s => ClusterQueues.Of(s.Key) == queue && s.Value.Count < Options.RunsPerDevice)
                .OrderBy(s => s.Value.Count).Select(s => s.Key).FirstOrDefault()
                ?? throw new InvalidOperationException($"worker {Name} has no free {queue} device for run {runId}");
            _slots[device].Add(runId);
            return device;
        }
    }

    /// <summary>Frees the slot <paramref name="runId"/> held on <paramref name="device"/>.</summary>
    public void Release(string device, string runId)
    {
        lock (_gate) _slots[device].Remove(runId);
    }

    /// <summary>The runs trained now, with their devices.</summary>
    public IReadOnlyList<WorkerRun> Running()
    {
        lock (_gate) return [.. _slots.SelectMany(s => s.Value.Select(r => new WorkerRun(r, s.Key)))];
    }

    /// <summary>What the heartbeat writes.</summary>
    public WorkerInfo Describe() => new()
    {
        Name = Name, Host = Environment.MachineName, ProcessId = Environment.ProcessId, Devices = Options.Devices, Queues = Options.Queues,
        Runs = Running(), Capacity = Capacity,
    };
}

/// <summary>Settings of a <c>medzoo worker</c> process (its command line).</summary>
public sealed class WorkerOptions
{
    /// <summary>Unique worker name (default: host name and process id).</summary>
    public string? Name { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>Devices to train on: "cpu", "cuda:0", "cuda:1", … (default cpu).</summary>
    public IReadOnlyList<string> Devices { get; set; } = ["cpu"];

    /// <summary>Queues to take runs from (default: the kinds of <see cref="Devices"/>).</summary>
    public IReadOnlyList<string> Queues { get; set; } = [ClusterQueues.Cpu];

    /// <summary>Runs trained at once on one device (default 1: two runs on one GPU slow each other and may run out of memory).</summary>
    public int RunsPerDevice { get; set; } = 1;

    /// <summary>Seconds between heartbeats.</summary>
    public double HeartbeatSeconds { get; set; } = 2;

    /// <summary>Throws when a value is wrong, naming the option as the command line spells it.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 200)
            throw new ArgumentException($"--name must be 1 to 200 characters, got '{Name}'");
        if (Devices.Count == 0) throw new ArgumentException("--devices names no device: use cpu, cuda:0, cuda:1, …");
        foreach (var d in Devices)
            if (d != "cpu" && !(d.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(d.AsSpan(5), out var n) && n >= 0))
                throw new ArgumentException($"--devices: '{d}' is not a device; use cpu or cuda:N (e.g. cuda:0)");
        if (Devices.Distinct(StringComparer.Ordinal).Count() != Devices.Count)
            throw new ArgumentException($"--devices names a device twice: {string.Join(",", Devices)}");
        if (Queues.Count == 0) throw new ArgumentException("--queues names no queue: use gpu, cpu or both");
        foreach (var q in Queues)
        {
            if (!ClusterQueues.All.Contains(q))
                throw new ArgumentException($"--queues: '{q}' is not a queue; use {string.Join(" or ", ClusterQueues.All)}");
            if (!Devices.Any(d => ClusterQueues.Of(d) == q))
                throw new ArgumentException($"--queues {q}: this worker has no {q} device to train its runs on (--devices {string.Join(",", Devices)})");
        }
        if (RunsPerDevice < 1) throw new ArgumentException($"--runs-per-device must be at least 1, got {RunsPerDevice}");
        if (HeartbeatSeconds is <= 0 or > 60) throw new ArgumentException($"heartbeat interval must be between 0 and 60 seconds, got {HeartbeatSeconds}");
    }
}
