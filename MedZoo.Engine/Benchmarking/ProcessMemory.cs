using System.Globalization;

namespace MedZoo.Engine.Benchmarking;

/// <summary>
/// Process and machine facts for benchmark reports, read from Linux's /proc: resident set (VmRSS),
/// its peak (VmHWM), the load average and the CPU model. Elsewhere the /proc values are null and
/// the CPU model falls back to the architecture name.
/// </summary>
public static class ProcessMemory
{
    /// <summary>Resident set of this process now, in MB (10⁶ bytes), or null without /proc.</summary>
    public static double? ResidentMegabytes() => StatusKilobytes("VmRSS:") is { } kb ? kb * 1024 / 1e6 : null;

    /// <summary>Peak resident set of this process so far, in MB, or null without /proc.</summary>
    public static double? PeakResidentMegabytes() => StatusKilobytes("VmHWM:") is { } kb ? kb * 1024 / 1e6 : null;

    /// <summary>Resident and managed memory now.</summary>
    public static MemoryReport Report()
    {
        var gc = GC.GetGCMemoryInfo();
        // Current first, then the peak: read the other way round, growth between the two reads (other
        // threads allocating) reported a current value above the peak.
        var resident = ResidentMegabytes();
        var peak = PeakResidentMegabytes();
        if (peak is { } p && resident is { } r && r > p) peak = r;
        return new MemoryReport(peak, resident, GC.GetTotalMemory(false) / 1e6, gc.TotalCommittedBytes / 1e6);
    }

    /// <summary>The 1, 5 and 15 minute load averages, or null without /proc/loadavg.</summary>
    public static double[]? LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Take(3).Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The CPU's model name from /proc/cpuinfo, else the processor architecture.</summary>
    public static string CpuModel() => Devices.CpuIdentity.Model();

    private static long? StatusKilobytes(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(key.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }
}
