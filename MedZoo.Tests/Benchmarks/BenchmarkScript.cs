using System.Diagnostics;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Benchmarks;

/// <summary>Runs a script of benchmarks/ with Debian's python3 from the repository root: exit code and stdout + stderr.</summary>
internal static class BenchmarkScript
{
    public const string Python = "/usr/bin/python3";

    public static (int Code, string Output) Run(string script, params string[] arguments) => RunWithInput(script, "", arguments);

    /// <summary>As <see cref="Run"/>, with <paramref name="input"/> on the script's stdin.</summary>
    public static (int Code, string Output) RunWithInput(string script, string input, params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = TestPaths.RepositoryRoot };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "benchmarks", script));
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
