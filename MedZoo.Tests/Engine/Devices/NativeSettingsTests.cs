using MedZoo.Engine.Benchmarking;
using MedZoo.Engine.Devices;
using MedZoo.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Devices;

/// <summary>The allocator tuning and libtorch's oneDNN switch, on the real native libraries.</summary>
public sealed class NativeSettingsTests
{
    private static bool UserTunedMalloc =>
        (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "").Contains("glibc.malloc.", StringComparison.Ordinal)
        || Environment.GetEnvironmentVariable(MallocTuning.Variable) is "0";

    [SkippableFact]
    public void MallocTuning_OnLinux_IsAppliedAndSaysSo()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && !UserTunedMalloc, "glibc tuning applies on Linux unless the user tuned malloc");
        MallocTuning.Apply();
        Assert.NotNull(MallocTuning.AppliedMmapThreshold);
        Assert.True(MallocTuning.AppliedMmapThreshold >= 32 << 20);
        Assert.Contains("MiB", MallocTuning.Explanation);
        Assert.Contains(MallocTuning.Variable, MallocTuning.Explanation);
    }

    [SkippableFact]
    public void MallocTuning_Trim_ReturnsFreedTensorMemoryToTheSystem()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && !UserTunedMalloc, "glibc tuning applies on Linux unless the user tuned malloc");
        // In a process of its own: resident memory is one figure for the whole process, and inside the
        // test run other classes allocate and free beside this one (seen: 720 MB of blocks read as 30 MB).
        var f = ChildProbes.Run("malloc-trim", TimeSpan.FromMinutes(3));
        double before = f["before"], kept = f["kept"], after = f["after"];
        Assert.True(kept - before > 500, $"the freed blocks (720 MB) should stay resident until trimmed: {before:F0} MB -> {kept:F0} MB");
        Assert.Equal(1, f["trimmed"]);
        Assert.True(kept - after > 500, $"trim should hand the freed blocks back: {kept:F0} MB -> {after:F0} MB");
    }

    [SkippableFact]
    public void LibTorchSwitches_Mkldnn_CanBeTurnedOffAndOnAgain()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64,
            "libtorch's exported symbols are looked up on x86-64 Linux");
        var original = LibTorchSwitches.MkldnnEnabled();
        Assert.NotNull(original);
        try
        {
            Assert.True(LibTorchSwitches.TrySetMkldnnEnabled(!original!.Value));
            Assert.Equal(!original.Value, LibTorchSwitches.MkldnnEnabled());
        }
        finally
        {
            Assert.True(LibTorchSwitches.TrySetMkldnnEnabled(original!.Value));
        }
        Assert.Equal(original, LibTorchSwitches.MkldnnEnabled());
    }
}
