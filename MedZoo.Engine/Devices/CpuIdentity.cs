namespace MedZoo.Engine.Devices;

/// <summary>What CPU this is, as /proc/cpuinfo names it (benchmark reports and the convolution route cache's key).</summary>
public static class CpuIdentity
{
    /// <summary>The CPU's model name ("AMD EPYC 9654 96-Core Processor"), or the architecture where none is readable.</summary>
    public static string Model()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var colon and > 0)
                    return line[(colon + 1)..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
