using System.Collections;
using System.Diagnostics;
using MedZoo.Tests.TestSupport;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Interop;

/// <summary>
/// Runs MedicalZoo's networks (benchmarks/reference_models.py) under Debian's PyTorch through
/// medicalzoo_reference.py next to this file. scripts/prereqs.sh installs python3-torch, so a missing
/// interpreter or torch fails the test (saying what to install) rather than skipping it.
/// </summary>
internal static class PyTorchReference
{
    public const string Python = "/usr/bin/python3";

    private static readonly string Script = Path.Combine(TestPaths.RepositoryRoot, "MedZoo.Tests", "Engine", "Interop", "medicalzoo_reference.py");

    /// <summary>Runs <c>/usr/bin/python3 ARGS</c>; fails the test with stderr when it exits non-zero.</summary>
    public static string Run(params string[] arguments)
    {
        Assert.True(File.Exists(Python), $"{Python} is missing: run scripts/prereqs.sh (Debian's python3, python3-torch, python3-onnx)");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(300)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Python} {string.Join(' ', arguments)} did not finish in 300 s");
        }
        Assert.True(process.ExitCode == 0,
            $"{Python} {string.Join(' ', arguments.Select(Path.GetFileName))} failed ({process.ExitCode}); is python3-torch installed (scripts/prereqs.sh)?\n{error.Result}");
        return output.Result;
    }

    /// <summary>Runs the reference script with a command (forward, checkpoint) and its arguments.</summary>
    public static void Reference(params string[] arguments) => Run([Script, .. arguments]);

    /// <summary>Saves <paramref name="input"/> as <c>{"input": tensor}</c> for torch.load.</summary>
    public static void SaveInput(string path, Tensor input)
    {
        using var file = File.Create(path);
        PyTorchPickler.PickleStateDict(file, new Dictionary<string, Tensor> { ["input"] = input.contiguous() });
    }

    /// <summary>Loads the <c>"output"</c> tensor the script saved (caller's dispose scope).</summary>
    public static Tensor LoadOutput(string path)
    {
        using var file = File.OpenRead(path);
        var table = PyTorchUnpickler.UnpickleStateDict(file);
        var output = (Tensor)table["output"]!;
        foreach (DictionaryEntry e in table)
            if (!ReferenceEquals(e.Value, output)) (e.Value as IDisposable)?.Dispose();
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Gives every batch norm's running statistics random values, so eval mode differs from train mode's.</summary>
    public static void RandomizeStatistics(nn.Module network, int seed)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)seed);
        foreach (var (name, buffer) in network.named_buffers())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal)) buffer.copy_(rand(buffer.shape, generator: generator) - 0.5);
            else if (name.EndsWith("running_var", StringComparison.Ordinal)) buffer.copy_(rand(buffer.shape, generator: generator) * 1.5 + 0.5);
        }
    }

    /// <summary>Largest absolute difference.</summary>
    public static double MaxDifference(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        using var scope = NewDisposeScope();
        return (a.to(float64) - b.to(float64)).abs().max().item<double>();
    }
}
