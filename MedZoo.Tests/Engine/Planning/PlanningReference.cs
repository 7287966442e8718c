using System.Diagnostics;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Planning;

/// <summary>Runs planning_reference.py (next to this file) with Debian's /usr/bin/python3, nibabel, numpy and scipy.</summary>
internal static class PlanningReference
{
    private const string Python = "/usr/bin/python3";

    private static readonly string Script = Path.Combine(TestPaths.RepositoryRoot, "MedZoo.Tests", "Engine", "Planning", "planning_reference.py");

    /// <summary>Skips the test when the reference interpreter or its packages are missing (scripts/prereqs.sh installs them).</summary>
    public static void Require()
    {
        Skip.IfNot(File.Exists(Python), $"{Python} is missing: run scripts/prereqs.sh (Debian's python3-nibabel and python3-scipy)");
        var (code, _, error) = Execute(["-c", "import nibabel, numpy, scipy.ndimage"], null);
        Skip.IfNot(code == 0, $"{Python} cannot import nibabel/numpy/scipy ({error.Trim()}): run scripts/prereqs.sh");
    }

    /// <summary>Runs the script with <paramref name="arguments"/>, feeding <paramref name="input"/>; returns its standard output.</summary>
    public static string Run(IEnumerable<string> arguments, string? input = null)
    {
        var (code, output, error) = Execute([Script, .. arguments], input);
        Assert.True(code == 0, $"planning_reference.py failed ({code}): {error}");
        return output;
    }

    private static (int Code, string Output, string Error) Execute(IEnumerable<string> arguments, string? input)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null) process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Python} {string.Join(' ', arguments)} did not finish in 120 s");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}
