using System.Text.Json;

namespace MedZoo.Tests.Benchmarks;

/// <summary>
/// benchmarks/run.py names what is missing (and the command that installs it) instead of failing
/// with tracebacks halfway through a run (issue 19.6). Runs only the prerequisite check: no benchmark.
/// </summary>
public sealed class RunScriptTests : IDisposable
{
    private const string Python = BenchmarkScript.Python;
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

    [SkippableFact]
    public void Plan_Realsize_SameWindowsOnBothSidesAndTheTrainerAtTheSameSize()
    {
        Skip.IfNot(File.Exists(Python), "/usr/bin/python3 is a prerequisite (scripts/prereqs.sh)");
        var (code, output) = RunPy("--parts", "realsize", "--plan", "--realsize-models", "VNET", "--overlap", "0.5");

        Assert.True(code == 0, output);
        using var plan = JsonDocument.Parse(output);
        var job = plan.RootElement.GetProperty("jobs").EnumerateArray().Single();
        Assert.Equal("infer", job.GetProperty("part").GetString());
        var ours = Strings(job.GetProperty("sides").GetProperty("medzoo"));
        var theirs = Strings(job.GetProperty("sides").GetProperty("pytorch"));
        // The same volume, window, overlap and warm-up on both sides, each in its own spelling.
        Assert.Equal(["181", "217", "181"], After(ours, "--volume", 3));
        Assert.Equal(["181", "217", "181"], After(theirs, "--volume", 3));
        Assert.Equal(["64"], After(ours, "--dim", 1));
        Assert.Equal(["64"], After(theirs, "--patches", 1));
        Assert.Equal(["0.5"], After(ours, "--overlap", 1));
        Assert.Equal(["0.5"], After(theirs, "--overlap", 1));
        Assert.Contains("--infer_warmup_window", ours);
        Assert.Contains("--infer-warmup-window", theirs);
        var trainer = Strings(plan.RootElement.GetProperty("realsizeTrainer"));
        Assert.Equal(["181", "217", "181"], After(trainer, "--synthetic_size", 3));
        Assert.Equal(["64"], After(trainer, "--dim", 1));
        Assert.Equal(["3"], After(trainer, "--trainer_epochs", 1));
        Assert.Contains("--no_validation", trainer);
    }

    [SkippableTheory]
    [InlineData("--volume 80 80", "--volume: give one cube edge or three sizes D H W")]
    [InlineData("--parts realsize --realsize-volume 181 50 181", "must be at least --realsize-window 64 on every axis")]
    [InlineData("--parts realsize --realsize-steps 61", "--realsize-steps 61 must be a positive multiple of --realsize-epochs 3")]
    [InlineData("--parts speed", "unknown part(s) speed: use train, infer, io, data, trainer, realsize, realsize-infer, realsize-trainer")]
    public void Plan_BadArgument_SaysWhatIsExpectedWithoutATraceback(string arguments, string expected)
    {
        Skip.IfNot(File.Exists(Python), "/usr/bin/python3 is a prerequisite (scripts/prereqs.sh)");
        var (code, output) = RunPy([.. arguments.Split(' '), "--plan"]);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, output);
        Assert.DoesNotContain("Traceback", output);
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(v => v.GetString()!).ToArray();

    private static string[] After(string[] command, string option, int count) =>
        command.SkipWhile(a => a != option).Skip(1).Take(count).ToArray();

    private static (int Code, string Output) RunPy(params string[] arguments) => BenchmarkScript.Run("run.py", arguments);
}
