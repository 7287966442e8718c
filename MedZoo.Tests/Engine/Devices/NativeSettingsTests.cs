using MedZoo.Engine.Benchmarking;
using MedZoo.Engine.Devices;
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
        MallocTuning.Apply();
        TorchRuntime.EnsureLoaded();
        MallocTuning.Trim();
        var before = Resident();
        // Sixty 12 MB blocks: under the mmap threshold even where an older glibc caps it at 32 MiB, and
        // under the 64 MB heaps of a thread's arena, so they come from the heap (a test runs on a
        // worker thread, as the trainer does). 720 MB in all: under the whole suite some of them reuse
        // pages other threads freed and still hold (seen: 120 MB of blocks raised RSS by 22 MB, and
        // 360 MB by 38 MB once large volume reads kept bigger free blocks around).
        using (var scope = NewDisposeScope())
        {
            for (var i = 0; i < 60; i++) Assert.Equal(3L << 20, ones(3L << 20).sum().item<float>());
        }
        var kept = Resident();
        Assert.True(kept - before > 64, $"the freed block should stay resident until trimmed: {before:F0} MB -> {kept:F0} MB");
        Assert.True(MallocTuning.Trim());
        var after = Resident();
        // Alone, all ~120 MB come back. Under the whole suite other threads share this thread's malloc
        // arena and reuse part of the freed blocks before the trim (seen: 42 MB back); a quarter is
        // still far above what trimming nothing gives (0).
        Assert.True(kept - after > 30, $"trim should hand (most of) the freed blocks back: {kept:F0} MB -> {after:F0} MB");
    }

    private static double Resident() => ProcessMemory.ResidentMegabytes() ?? throw new InvalidOperationException("no /proc/self/status");

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
