using System.Diagnostics;
using System.Globalization;
using MedZoo.Engine.Benchmarking;
using MedZoo.Engine.Devices;
using static TorchSharp.torch;

namespace MedZoo.Tests.TestSupport;

/// <summary>
/// Measurements that need a process to themselves. Resident memory is one figure for the whole process:
/// inside the test run, other test classes allocate and free on other threads at the same time, so a
/// 720 MB swing could read as 30 MB (seen in CI). The test assembly is also a program (its own
/// <c>Main</c>, in place of the test SDK's empty one; the test host never calls it): a test starts it
/// with a probe's name and reads the figures the probe prints.
/// </summary>
public static class ChildProbes
{
    /// <summary>The probes, by the name given on the command line.</summary>
    private static readonly Dictionary<string, Func<IReadOnlyDictionary<string, double>>> Probes = new(StringComparer.Ordinal)
    {
        ["malloc-trim"] = MallocTrim,
    };

    public static int Main(string[] args)
    {
        if (args.Length != 1 || !Probes.TryGetValue(args[0], out var probe))
        {
            Console.Error.WriteLine($"usage: dotnet MedZoo.Tests.dll PROBE, where PROBE is one of: {string.Join(", ", Probes.Keys)}");
            return 2;
        }
        foreach (var (name, value) in probe())
            Console.WriteLine($"{name}={value.ToString("R", CultureInfo.InvariantCulture)}");
        return 0;
    }

    /// <summary>Runs a probe in a fresh process and returns the figures it printed.</summary>
    public static IReadOnlyDictionary<string, double> Run(string probe, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        info.ArgumentList.Add(typeof(ChildProbes).Assembly.Location);
        info.ArgumentList.Add(probe);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"probe {probe} ran past {timeout.TotalSeconds:F0} s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"probe {probe} exited {process.ExitCode}: {stderr.Result}{stdout.Result}");
        var figures = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && double.TryParse(line[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                figures[line[..eq]] = v;
        }
        return figures;
    }

    /// <summary>
    /// Resident megabytes before sixty 12 MB tensors, after they are freed, and after
    /// <see cref="MallocTuning.Trim"/>; <c>trimmed</c> is 1 when the trim said it released memory.
    /// </summary>
    private static IReadOnlyDictionary<string, double> MallocTrim()
    {
        MallocTuning.Apply();
        TorchRuntime.EnsureLoaded();
        // The figures are read on a worker thread, as the trainer allocates: its own malloc arena.
        IReadOnlyDictionary<string, double>? result = null;
        var thread = new Thread(() =>
        {
            MallocTuning.Trim();
            var before = Resident();
            using (NewDisposeScope())
            {
                // 12 MB each: under the mmap threshold even where an older glibc caps it at 32 MiB, and
                // under a thread arena's 64 MB heaps, so they come from the heap, not from mmap.
                for (var i = 0; i < 60; i++)
                {
                    var sum = ones(3L << 20).sum().item<float>();
                    if (sum != 3L << 20) throw new InvalidOperationException($"ones summed to {sum}");
                }
            }
            var kept = Resident();
            var trimmed = MallocTuning.Trim();
            result = new Dictionary<string, double>
            {
                ["before"] = before, ["kept"] = kept, ["after"] = Resident(), ["trimmed"] = trimmed ? 1 : 0,
            };
        });
        thread.Start();
        thread.Join();
        return result!;
    }

    private static double Resident() =>
        ProcessMemory.ResidentMegabytes() ?? throw new InvalidOperationException("no /proc/self/status");
}
