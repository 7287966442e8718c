using System.Diagnostics;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Benchmarks;

/// <summary>
/// benchmarks/run.py names what is missing (and the command that installs it) instead of failing
/// with tracebacks halfway through a run (issue 19.6). Runs only the prerequisite check: no benchmark.
/// </summary>
public sealed class RunScriptTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _folder = Directory.CreateTempSubdirectory("medzoo-runpy-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [SkippableFact]
    public void Run_PythonWithoutTorch_NamesTheDebianPackageAndTheInstallCommand()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists(Python), "/usr/bin/python3 is a prerequisite (scripts/prereqs.sh)");
        // Debian's interpreter without its site packages: no torch, numpy or nibabel.
        var bare = Path.Combine(_folder, "python-without-packages");
        File.WriteAllText(bare, $"#!/bin/sh\nexec {Python} -S \"$@\"\n");
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(bare, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (code, output) = RunPy("--parts", "train,io", "--python", bare);

        Assert.NotEqual(0, code);
        Assert.Contains("cannot import nibabel, numpy, torch", output);
        Assert.Contains("python3-torch", output);
        Assert.Contains("scripts/prereqs.sh --bench", output);
        Assert.DoesNotContain("Traceback", output);
    }

    [SkippableFact]
    public void Run_PythonThatDoesNotExist_SaysSoWithoutATraceback()
    {
        Skip.IfNot(File.Exists(Python), "/usr/bin/python3 is a prerequisite (scripts/prereqs.sh)");
        var (code, output) = RunPy("--parts", "train", "--python", Path.Combine(_folder, "no-such-python"));

        Assert.NotEqual(0, code);
        Assert.Contains("which does not exist", output);
        Assert.DoesNotContain("Traceback", output);
    }

    private static (int Code, string Output) RunPy(params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepositoryRoot };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "benchmarks", "run.py"));
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
