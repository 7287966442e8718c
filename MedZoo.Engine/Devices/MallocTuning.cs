using System.Runtime.InteropServices;

namespace MedZoo.Engine.Devices;

/// <summary>
/// Keeps freed native memory in the process for reuse, instead of handing it back to the kernel and
/// faulting it in again on the next step (glibc's allocator, x86-64 and arm64 Linux).
/// <para>
/// libtorch allocates every CPU tensor with malloc. With glibc's defaults, blocks above a dynamic
/// threshold (at most 32 MiB) are fresh mmap'd pages each time and the top of the heap is trimmed
/// after frees, so each training step pays page faults on its activations, oneDNN's weight
/// reorders and the optimizer's temporaries. In a virtual machine a fault is expensive: measured on
/// this project's 2-core VM, a VNET training step at 32³ (batch 2) took 2.9–3.7 s with the defaults
/// and 0.83–0.88 s with these settings (Adam's step on VNET's 45.6 M parameters: 0.70 s → 0.07 s). Resident memory then settles at the run's peak and stays there,
/// which is also what makes it stable over a long run; <see cref="Trim"/> returns it when a run ends.
/// </para>
/// Applied from the Engine's module initializer. Set <c>MEDZOO_MALLOC_TUNING=0</c> to keep glibc's
/// defaults; a user's own <c>GLIBC_TUNABLES</c> malloc settings or <c>MALLOC_*_</c> variables are
/// left alone.
/// </summary>
public static class MallocTuning
{
    /// <summary>Set to 0 to keep glibc's defaults.</summary>
    public const string Variable = "MEDZOO_MALLOC_TUNING";

    /// <summary>Blocks below this come from the heap (reused) rather than from fresh mmap'd pages.</summary>
    public const int MmapThreshold = 1 << 30;

    /// <summary>Free memory at the top of the heap kept for reuse rather than returned to the kernel.</summary>
    public const int TrimThreshold = 1 << 30;

    /// <summary>glibc's fixed maximum for the mmap threshold on older versions (32 MiB on 64-bit).</summary>
    private const int OldGlibcMaxMmapThreshold = 32 << 20;

    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;

    private static readonly Lock Gate = new();
    private static bool _applied;

    /// <summary>The mmap threshold set (bytes), or null when nothing was changed.</summary>
    public static long? AppliedMmapThreshold { get; private set; }

    /// <summary>One line for logs.</summary>
    public static string Explanation { get; private set; } = "native allocator: not tuned";

    /// <summary>Tunes glibc's malloc once per process (idempotent, thread-safe).</summary>
    public static void Apply()
    {
        lock (Gate)
        {
            if (_applied) return;
            _applied = true;
            if (!OperatingSystem.IsLinux()) return;
            if (Environment.GetEnvironmentVariable(Variable) is "0" or "false" or "off")
            {
                Explanation = $"native allocator: glibc defaults ({Variable}=0)";
                return;
            }
            if (UserTunedMalloc(out var how))
            {
                Explanation = $"native allocator: the user's settings ({how})";
                return;
            }
            try
            {
                var threshold = mallopt(M_MMAP_THRESHOLD, MmapThreshold) == 1 ? MmapThreshold
                    : mallopt(M_MMAP_THRESHOLD, OldGlibcMaxMmapThreshold) == 1 ? OldGlibcMaxMmapThreshold
                    : 0;
                if (threshold == 0 || mallopt(M_TRIM_THRESHOLD, TrimThreshold) != 1)
                {
                    Explanation = "native allocator: glibc refused the tuning; defaults kept";
                    return;
                }
                AppliedMmapThreshold = threshold;
                Explanation = $"native allocator: blocks under {threshold >> 20} MiB reused from the heap, freed memory kept until a run ends ({Variable}=0 to turn off)";
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                Explanation = "native allocator: not glibc; defaults kept";
            }
        }
    }

    /// <summary>
    /// Returns free native memory to the kernel (glibc's malloc_trim), e.g. when a training run or a
    /// prediction ends. Returns true if memory was released; false where there is nothing to do.
    /// </summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux() || AppliedMmapThreshold is null) return false;
        try
        {
            return malloc_trim(0) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static bool UserTunedMalloc(out string how)
    {
        how = "";
        var tunables = Environment.GetEnvironmentVariable("GLIBC_TUNABLES");
        if (tunables is not null && tunables.Contains("glibc.malloc.", StringComparison.Ordinal))
        {
            how = "GLIBC_TUNABLES";
            return true;
        }
        foreach (var name in new[] { "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX" })
        {
            if (Environment.GetEnvironmentVariable(name) is not { Length: > 0 }) continue;
            how = name;
            return true;
        }
        return false;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The allocator must be tuned before libtorch's first large allocations, whichever Engine type a program touches first.")]
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void ApplyAtLoad() => Apply();

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
