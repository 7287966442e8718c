using System.Runtime.InteropServices;

namespace MedZoo.Engine.Devices;

/// <summary>
/// libtorch's global switches that TorchSharp 0.107 does not expose, called through libtorch_cpu's
/// exported C++ symbols (Itanium mangling, x86-64 Linux). Used for one thing: turning oneDNN
/// (mkldnn) convolutions off when they compute wrongly, so that libtorch falls back to its own exact
/// (slower) convolution kernels. Every call is optional: when the library or a symbol is not found
/// the method says so and changes nothing.
/// </summary>
public static class LibTorchSwitches
{
    private const string GlobalContextSymbol = "_ZN2at13globalContextEv"; // at::globalContext()
    private const string SetMkldnnSymbol = "_ZN2at7Context20setUserEnabledMkldnnEb"; // at::Context::setUserEnabledMkldnn(bool)
    private const string GetMkldnnSymbol = "_ZNK2at7Context17userEnabledMkldnnEv"; // at::Context::userEnabledMkldnn() const

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GlobalContextFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetBoolFn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    private delegate bool GetBoolFn(IntPtr context);

    /// <summary>
    /// Turns libtorch's use of oneDNN on or off for this process (at::Context::setUserEnabledMkldnn).
    /// Returns false, changing nothing, where the symbol cannot be found (not x86-64 Linux, another
    /// libtorch build).
    /// </summary>
    public static bool TrySetMkldnnEnabled(bool enabled)
    {
        if (!TryContext(out var library, out var context)) return false;
        if (!NativeLibrary.TryGetExport(library, SetMkldnnSymbol, out var set)) return false;
        Marshal.GetDelegateForFunctionPointer<SetBoolFn>(set)(context, enabled);
        return true;
    }

    /// <summary>Whether libtorch may use oneDNN (null where the symbol cannot be found).</summary>
    public static bool? MkldnnEnabled()
    {
        if (!TryContext(out var library, out var context)) return null;
        if (!NativeLibrary.TryGetExport(library, GetMkldnnSymbol, out var get)) return null;
        return Marshal.GetDelegateForFunctionPointer<GetBoolFn>(get)(context);
    }

    private static bool TryContext(out IntPtr library, out IntPtr context)
    {
        context = IntPtr.Zero;
        library = IntPtr.Zero;
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return false;
        TorchRuntime.EnsureLoaded();
        if (!TryLoadTorchCpu(out library)) return false;
        if (!NativeLibrary.TryGetExport(library, GlobalContextSymbol, out var global)) return false;
        context = Marshal.GetDelegateForFunctionPointer<GlobalContextFn>(global)();
        return context != IntPtr.Zero;
    }

    // libtorch_cpu is already loaded (TorchSharp's native library depends on it): by its name the
    // loader returns that instance; the runtimes folder is the fallback for a fresh lookup.
    private static bool TryLoadTorchCpu(out IntPtr library)
    {
        if (NativeLibrary.TryLoad("libtorch_cpu.so", out library)) return true;
        var beside = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libtorch_cpu.so");
        return NativeLibrary.TryLoad(beside, out library);
    }
}
