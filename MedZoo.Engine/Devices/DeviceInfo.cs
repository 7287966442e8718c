using TorchSharp;

namespace MedZoo.Engine.Devices;

/// <summary>What the engine runs on: shown by the dashboard and the CLI.</summary>
/// <param name="Device">"cpu" or "cuda:N".</param>
/// <param name="Description">Human-readable, e.g. "CPU (2 threads)".</param>
/// <param name="Threads">Intra-op threads used by torch.</param>
/// <param name="CudaAvailable">Whether a CUDA device is usable by this build.</param>
/// <param name="Notice">Why a requested device was not used (e.g. CUDA asked but unavailable); null if none.</param>
public sealed record DeviceInfo(string Device, string Description, int Threads, bool CudaAvailable, string? Notice);

/// <summary>Chooses the torch device for a request such as "cpu", "cuda", "cuda:1" or "auto".</summary>
public static class DeviceSelector
{
    /// <summary>
    /// Resolves <paramref name="requested"/> to a device. A CUDA request on a machine (or build)
    /// without CUDA falls back to CPU with a notice instead of failing, so a config written on a GPU
    /// host still runs on a laptop.
    /// </summary>
    public static (torch.Device Device, DeviceInfo Info) Resolve(string? requested)
    {
        TorchRuntime.EnsureLoaded();
        var want = string.IsNullOrWhiteSpace(requested) ? "auto" : requested.Trim().ToLowerInvariant();
        var cuda = SafeCudaAvailable();
        var threads = torch.get_num_threads();
        if (want is "auto")
            want = cuda ? "cuda" : "cpu";
        if (want.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (cuda)
            {
                var dev = torch.device(want);
                return (dev, new DeviceInfo(dev.ToString(), $"CUDA GPU {dev} ({torch.cuda.device_count()} visible)", threads, true, null));
            }
            return (torch.CPU, new DeviceInfo("cpu", $"CPU ({threads} threads)", threads, false,
                $"'{requested}' was requested but CUDA is not available in this build or on this machine; running on CPU."));
        }
        if (want != "cpu")
            throw new ArgumentException($"device '{requested}' is not recognised: use cpu, cuda, cuda:N or auto", nameof(requested));
        return (torch.CPU, new DeviceInfo("cpu", $"CPU ({threads} threads)", threads, cuda, null));
    }

    private static bool SafeCudaAvailable()
    {
        try { return torch.cuda.is_available(); }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException or InvalidOperationException) { return false; }
    }
}
