using System.Diagnostics;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Scripts;

/// <summary>
/// scripts/gpu-check.sh (issue 19.5) on a machine without a GPU: it says it cannot check here (exit 2)
/// and why, before building or training anything. Its full dry run (GPU_CHECK_DEVICE=cpu) takes
/// minutes and is run by hand (README, Docker: GPU image).
/// </summary>
public class GpuCheckScriptTests
{
    [SkippableFact]
    public void Run_WithoutAnNvidiaGpu_ExitsTwoNamingWhatIsMissing()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/usr/bin/python3"), "a Linux machine with the test prerequisites");
        Skip.If(Directory.GetFiles("/dev", "nvidia*").Length > 0, "this machine has an NVIDIA GPU: the script would really check it");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepositoryRoot };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "scripts", "gpu-check.sh"));
        start.ArgumentList.Add("--no-build");
        start.Environment["GPU_CHECK_DEVICE"] = "cuda";
        start.Environment["GPU_CHECK_DIR"] = Path.Combine(Path.GetTempPath(), $"medzoo-gpu-check-test-{Environment.ProcessId}");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1))) process.Kill(entireProcessTree: true);
        process.WaitForExit();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("cannot check: no NVIDIA GPU or driver here", stderr.Result);
        Assert.False(Directory.Exists(start.Environment["GPU_CHECK_DIR"]), "nothing is built or written before the check");
    }
}
