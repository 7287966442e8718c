using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MedZoo.Engine.Devices;

/// <summary>
/// oneDNN's instruction-set setting (<c>DNNL_MAX_CPU_ISA</c>), as the user left it.
/// <para>
/// MedZoo used to cap oneDNN at SSE4.1 here, because libtorch 2.10's AVX/AVX-512 convolutions were
/// wrong on NCDHW data on some CPUs. Those wrong results come from oneDNN's blocked kernels only; on
/// channels-last data the same instruction sets are exact, and 2–10× faster than the cap. MedZoo now
/// routes CPU convolutions through channels-last after a self-test
/// (<see cref="MedZoo.Engine.Networks.Blocks.CpuConvolution"/>) and no longer caps anything.
/// </para>
/// A value the user sets (e.g. <c>DNNL_MAX_CPU_ISA=SSE41</c>) is honoured by oneDNN, which reads it
/// once from the native environment at its first use; this class only reports it (.NET's
/// <see cref="Environment.GetEnvironmentVariable(string)"/> may not see a value set natively, so it
/// reads libc's environment).
/// </summary>
public static class OneDnnIsa
{
    /// <summary>oneDNN's environment variable for the highest instruction set it may use.</summary>
    public const string Variable = "DNNL_MAX_CPU_ISA";

    private static readonly Lock Gate = new();
    private static bool _applied;

    /// <summary>The value the user set for oneDNN (null: none, oneDNN uses the best the CPU has).</summary>
    public static string? Effective { get; private set; }

    /// <summary>True when the user chose a value (the only way one is set now).</summary>
    public static bool ChosenByUser => Effective is not null;

    /// <summary>One line for logs and the device panel.</summary>
    public static string Explanation => Effective is null
        ? "oneDNN instruction set: the CPU's best (not capped)"
        : $"oneDNN instruction set: {Variable}={Effective} (set by the user)";

    /// <summary>Reads the user's setting once per process (idempotent, thread-safe).</summary>
    public static void Apply()
    {
        lock (Gate)
        {
            if (_applied) return;
            _applied = true;
            try
            {
                var current = OperatingSystem.IsLinux() ? NativeGetEnv(Variable) : Environment.GetEnvironmentVariable(Variable);
                Effective = string.IsNullOrEmpty(current) ? null : current;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                Effective = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v : null;
            }
        }
    }

    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "Reads the setting before libtorch's first convolution, whichever Engine type a program touches first, so logs report what oneDNN uses.")]
    [ModuleInitializer]
    internal static void ApplyAtLoad() => Apply();

    private static string? NativeGetEnv(string name)
    {
        var p = getenv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    [DllImport("libc", EntryPoint = "getenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr getenv(string name);
}
