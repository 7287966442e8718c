namespace MedZoo.Tests.Benchmarks;

/// <summary>
/// benchmarks/perf_entry_points.py counts libtorch's element-wise kernel samples by the TorchSharp entry point on their
/// call chain. Checked on written <c>perf script -F ip,sym</c> output with known counts.
/// </summary>
public sealed class PerfEntryPointsScriptTests
{
    // Three copy samples from contiguous, one from a pool thread, two adds from add_, and a oneDNN sample that is no
    // element-wise kernel: at 250 Hz over 2 units, one sample is 2 ms per unit.
    private static readonly string PerfScript = string.Join('\n',
        Sample("c10::function_ref<...direct_copy_kernel...>", "at::native::copy_", "THSTensor_contiguous"),
        Sample("c10::function_ref<...direct_copy_kernel...>", "at::native::copy_", "THSTensor_contiguous"),
        Sample("c10::function_ref<...direct_copy_kernel...>", "at::native::copy_", "THSTensor_contiguous"),
        Sample("c10::function_ref<...direct_copy_kernel...>", "start_thread", "__GI___clone3"),
        Sample("c10::function_ref<...add_kernel...>", "at::_ops::add__Tensor::call", "THSTensor_add_"),
        Sample("c10::function_ref<...add_kernel...>", "at::_ops::add__Tensor::call", "THSTensor_add_"),
        Sample("[unknown]", "dnnl::impl::cpu::x64::jit_avx512_core_convolution_fwd_t"));

    private static string Sample(params string[] frames) =>
        "dotnet 123 [000] 1.0: cpu-clock:\n" + string.Concat(frames.Select((f, i) => $"\t    7f00000{i:x4} {f}\n")) + "\n";

    [SkippableFact]
    public void Samples_GroupedByEntryPoint_InMillisecondsPerUnit()
    {
        Skip.IfNot(File.Exists(BenchmarkScript.Python), "/usr/bin/python3 is a prerequisite (scripts/prereqs.sh)");
        var (code, output) = BenchmarkScript.RunWithInput("perf_entry_points.py", PerfScript, "--hz", "250", "--units", "2");
        Assert.True(code == 0, output);
        Assert.Contains("7 samples", output);
        Assert.Matches(@"\n\s+6\.00\s+copy\s+THSTensor_contiguous\n", output);
        Assert.Matches(@"\n\s+4\.00\s+add\s+THSTensor_add_\n", output);
        Assert.Matches(@"\n\s+2\.00\s+copy\s+\(a worker thread\)\n", output);
        Assert.DoesNotContain("dnnl", output);
    }

    [SkippableFact]
    public void NoSamples_IsAMessageNotATraceback()
    {
        Skip.IfNot(File.Exists(BenchmarkScript.Python), "/usr/bin/python3 is a prerequisite (scripts/prereqs.sh)");
        var (code, output) = BenchmarkScript.RunWithInput("perf_entry_points.py", "", "--hz", "250");
        Assert.NotEqual(0, code);
        Assert.Contains("no samples on stdin", output);
        Assert.DoesNotContain("Traceback", output);
    }
}
