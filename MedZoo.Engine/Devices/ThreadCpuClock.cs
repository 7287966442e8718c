using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MedZoo.Engine.Devices;

/// <summary>
/// CPU time of the calling thread, for timing alternatives on a shared machine: unlike the wall clock
/// it does not count the time the thread waits for a core another process holds, so two routes timed
/// under load still compare as they would on an idle machine (the wall clock there varied by ±30 % and
/// more). On Linux, <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>; elsewhere, or if that fails, the wall clock.
/// </summary>
internal static class ThreadCpuClock
{
    private const int ClockThreadCpuTimeId = 3;

    private static readonly bool Available = OperatingSystem.IsLinux() && TryRead(out _);

    /// <summary>True when <see cref="Seconds"/> reads the thread's CPU time (false: the wall clock).</summary>
    public static bool IsThreadCpuTime => Available;

    /// <summary>A reading in seconds; only differences of readings on one thread mean anything.</summary>
    public static double Seconds() =>
        Available && TryRead(out var seconds) ? seconds : Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    private static bool TryRead(out double seconds)
    {
        try
        {
            if (clock_gettime(ClockThreadCpuTimeId, out var t) == 0)
            {
                seconds = t.Seconds + t.Nanoseconds * 1e-9;
                return true;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
        seconds = 0;
        return false;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int clock_gettime(int clock, out TimeSpec time);
}
