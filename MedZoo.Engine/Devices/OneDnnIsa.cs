using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MedZoo.Engine.Devices;

/// <summary>
/// Caps oneDNN (libtorch's CPU convolution library) at SSE4.1 on x86-64 Linux before libtorch runs.
/// <para>
/// libtorch 2.10 as shipped in TorchSharp-cpu 0.107 computes 3D convolutions wrongly with its
/// vectorised kernels on some CPUs (seen on AMD EPYC with AVX-512), measured on fixed inputs against
/// float64 (<c>OneDnnIsaTests</c>, <c>Convolution3dTests</c>):
/// <list type="bullet">
/// <item>uncapped (AVX-512): a UNET3D training step at 64³ gives non-finite weight gradients in every
/// convolution, and batched (batch ≥ 2) forward and input-gradient results are wrong or NaN for
/// common channel counts (4→8, 8→8, 20→8, 28→12);</item>
/// <item>capped at AVX2 or AVX: the 64³ gradients are finite, but batched 20→8 and 28→12 are still
/// wrong or NaN (channel counts that are not a multiple of the vector width);</item>
/// <item>capped at SSE4.1: every probe is exact, batched or not.</item>
/// </list>
/// The cost is modest and partly recovered: one large convolution (1×32×64³, forward and backward) takes
/// ~1.5 s instead of ~0.9 s, but batches no longer need to be split into single samples, and the CPU
/// demo's epoch takes 15 s instead of 21 s. oneDNN reads the variable once, at its first use, from the
/// native environment; .NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not
/// reach that environment on Linux, so this calls libc's <c>setenv</c>.
/// </para>
/// A value the user set (e.g. <c>DNNL_MAX_CPU_ISA=ALL</c> on a CPU where the fast kernels are right) is
/// kept; <see cref="MedZoo.Engine.Networks.Blocks.CpuConvolution"/> still probes batched convolutions
/// and splits batches when they are wrong. Applied by the Engine's module initializer, so any program
/// that uses the Engine gets it before its first convolution.
/// </summary>
public static class OneDnnIsa
{
    /// <summary>oneDNN's environment variable for the highest instruction set it may use.</summary>
    public const string Variable = "DNNL_MAX_CPU_ISA";

    /// <summary>The cap MedZoo applies when the user has not chosen one.</summary>
    public const string DefaultCap = "SSE41";

    private static readonly Lock Gate = new();
    private static bool _applied;

    /// <summary>The value in effect for oneDNN (null: not capped, e.g. not x86-64 Linux).</summary>
    public static string? Effective { get; private set; }

    /// <summary>True when the value came from the user's environment rather than from MedZoo.</summary>
    public static bool ChosenByUser { get; private set; }

    /// <summary>One line for logs and the device panel.</summary>
    public static string Explanation => Effective is null
        ? "oneDNN instruction set: not capped"
        : ChosenByUser
            ? $"oneDNN instruction set: {Variable}={Effective} (set by the user)"
            : $"oneDNN instruction set capped at {Effective} ({Variable}): libtorch 2.10's AVX/AVX-512 convolutions are wrong on some CPUs (set {Variable}=ALL to lift the cap)";

    /// <summary>Sets the cap once per process (idempotent, thread-safe).</summary>
    public static void Apply()
    {
        lock (Gate)
        {
            if (_applied) return;
            _applied = true;
            if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
            try
            {
                ApplyCore();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // No libc to call: leave oneDNN's default.
            }
        }
    }

    private static void ApplyCore()
    {
        var current = NativeGetEnv(Variable);
        if (!string.IsNullOrEmpty(current))
        {
            Effective = current;
            ChosenByUser = true;
            return;
        }
        if (NativeSetEnv(Variable, DefaultCap, 0) != 0) return; // cannot set: leave oneDNN's default
        Environment.SetEnvironmentVariable(Variable, DefaultCap); // keep .NET's view (child processes, logs) in step
        Effective = DefaultCap;
    }

    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The cap must be in the native environment before libtorch's first convolution, whichever Engine type a program touches first.")]
    [ModuleInitializer]
    internal static void ApplyAtLoad() => Apply();

    private static string? NativeGetEnv(string name)
    {
        var p = getenv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    private static int NativeSetEnv(string name, string value, int overwrite) => setenv(name, value, overwrite);

    [DllImport("libc", EntryPoint = "getenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr getenv(string name);

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
