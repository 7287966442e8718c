using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cluster;

/// <summary>
/// The Hangfire queues runs wait in: one per device kind. A run asks for a device in its options ("cpu",
/// "cuda", "cuda:1" or "auto"); a worker advertises its devices and listens only to the queues they serve.
/// </summary>
public static class ClusterQueues
{
    /// <summary>Runs that asked for a GPU ("cuda", "cuda:N").</summary>
    public const string Gpu = "gpu";

    /// <summary>Runs that asked for the CPU.</summary>
    public const string Cpu = "cpu";

    /// <summary>Every queue name, in the order a worker lists them.</summary>
    public static IReadOnlyList<string> All { get; } = [Gpu, Cpu];

    /// <summary>
    /// The queue of a device a run asks for or a worker has: "cuda*" → gpu, "cpu" → cpu. "auto" (or nothing) means
    /// "a GPU when there is one": gpu when <paramref name="gpuWorkerAlive"/> says some worker serves the gpu queue now, else cpu.
    /// </summary>
    public static string Of(string? device, bool gpuWorkerAlive = false)
    {
        var d = (device ?? "").Trim().ToLowerInvariant();
        if (d.StartsWith("cuda", StringComparison.Ordinal)) return Gpu;
        if (d == "cpu") return Cpu;
        return gpuWorkerAlive ? Gpu : Cpu;
    }

    /// <summary>True while some worker with a fresh heartbeat serves the gpu queue (what "auto" asks for).</summary>
    public static bool GpuWorkerAlive(IWorkerStore workers)
    {
        ArgumentNullException.ThrowIfNull(workers);
        return workers.List().Any(w => w.HeartbeatAgeSeconds < IWorkerStore.LostAfter.TotalSeconds && w.Queues.Contains(Gpu));
    }
}
