using System.Diagnostics;
using System.Globalization;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Planning;

/// <summary>One measured training step of a network on one patch size.</summary>
/// <param name="Megabytes">Memory the step needed, in MB (10⁶ bytes).</param>
/// <param name="Seconds">Wall time of the forward and backward pass.</param>
public sealed record MeasuredStep(double Megabytes, double Seconds);

/// <summary>Measures what a training step costs on a device; the planner sizes patch and batch from it.</summary>
public interface IPatchMemoryProbe
{
    /// <summary>The device measured ("cpu", "cuda:0").</summary>
    string Device { get; }

    /// <summary>Memory training may use on the device, in MB.</summary>
    double AvailableMegabytes();

    /// <summary>Memory independent of the patch (weights, gradients, optimizer state), in MB.</summary>
    double FixedMegabytes(int? depth);

    /// <summary>Runs one forward and backward pass of one sample of <paramref name="patch"/> (D, H, W) and measures it.</summary>
    MeasuredStep Measure(int[] patch, int? depth);
}

/// <summary>
/// Measures training steps with the real network on the real device: builds the model, runs a
/// forward pass and a backward pass on random input of the candidate size and counts the bytes of
/// every tensor the step created (activations kept for the backward pass, the loss, the input
/// gradients' inputs); the weights, their gradients and Adam's two moments are counted from the
/// parameters. <see cref="AvailableMegabytes"/> is half of the memory the system reports available
/// (Linux MemAvailable) on the CPU, and the free memory nvidia-smi reports on a GPU, less 10 %.
/// </summary>
public sealed class TorchPatchMemoryProbe : IPatchMemoryProbe
{
    private readonly string _model;
    private readonly int _inChannels;
    private readonly int _classes;
    private readonly int? _baseFilters;
    private readonly torch.Device _device;

    /// <param name="model">Model zoo name.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="classes">Classes.</param>
    /// <param name="baseFilters">Base filters (null = the model's default).</param>
    /// <param name="device">"auto", "cpu", "cuda", "cuda:N".</param>
    public TorchPatchMemoryProbe(string model, int inChannels, int classes, int? baseFilters, string? device)
    {
        _model = ModelZoo.Get(model).Name;
        _inChannels = inChannels;
        _classes = classes;
        _baseFilters = baseFilters;
        (_device, var info) = DeviceSelector.Resolve(device);
        Device = info.Device;
    }

    /// <inheritdoc/>
    public string Device { get; }

    /// <inheritdoc/>
    public double AvailableMegabytes()
    {
        if (_device.type == DeviceType.CUDA)
        {
            var free = NvidiaSmiFreeMegabytes(_device.index < 0 ? 0 : _device.index)
                ?? throw new InvalidOperationException("the GPU's free memory could not be read (nvidia-smi did not answer): give the budget (--memory_budget MB)");
            return free * 0.9;
        }
        foreach (var line in File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo") : [])
            if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024 / 1e6 / 2;
        var gc = GC.GetGCMemoryInfo();
        return gc.TotalAvailableMemoryBytes / 1e6 / 2;
    }

    /// <inheritdoc/>
    public double FixedMegabytes(int? depth)
    {
        using var model = Build(depth);
        var parameterBytes = model.parameters().Sum(p => p.numel() * p.element_size());
        return 4.0 * parameterBytes / 1e6; // weights, gradients, Adam's first and second moments
    }

    /// <inheritdoc/>
    public MeasuredStep Measure(int[] patch, int? depth)
    {
        ArgumentNullException.ThrowIfNull(patch);
        using var model = Build(depth);
        model.to(_device);
        model.train();
        var clock = Stopwatch.StartNew();
        long bytes;
        using (var scope = NewDisposeScope())
        {
            var input = randn([1, _inChannels, patch[0], patch[1], patch[2]], device: _device);
            var output = model.call(input);
            var loss = output.square().mean();
            loss.backward();
            if (_device.type == DeviceType.CUDA) cuda.synchronize();
            bytes = scope.DisposablesView.OfType<Tensor>().Where(t => !t.IsInvalid).Sum(t => t.numel() * t.element_size());
        }
        clock.Stop();
        return new MeasuredStep(bytes / 1e6, clock.Elapsed.TotalSeconds);
    }

    private nn.Module<Tensor, Tensor> Build(int? depth) =>
        ModelZoo.Create(_model, _inChannels, _classes, new ModelOptions { BaseFilters = _baseFilters, Depth = depth });

    private static double? NvidiaSmiFreeMegabytes(int index)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("nvidia-smi", $"--query-gpu=memory.free --format=csv,noheader,nounits -i {index}")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (p is null) return null;
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit(10_000);
            return double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var mib) ? mib * 1.048576 : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }
}
