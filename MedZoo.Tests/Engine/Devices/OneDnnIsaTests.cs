using System.Runtime.InteropServices;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Losses;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Devices;

/// <summary>
/// The oneDNN cap: in effect in this process, and what it is for: libtorch 2.10's AVX-512
/// convolutions gave NaN weight gradients for UNET3D at 64³ and wrong batched results on this
/// project's CPUs; capped, both are right.
/// </summary>
public sealed class OneDnnIsaTests
{
    private static bool LinuxX64 => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [SkippableFact]
    public void Apply_LinuxX64_CapsOrKeepsTheUsersChoice()
    {
        Skip.IfNot(LinuxX64, "the cap applies to x86-64 Linux only");
        OneDnnIsa.Apply();
        Assert.NotNull(OneDnnIsa.Effective);
        if (!OneDnnIsa.ChosenByUser) Assert.Equal(OneDnnIsa.DefaultCap, OneDnnIsa.Effective);
        Assert.Equal(OneDnnIsa.Effective, Environment.GetEnvironmentVariable(OneDnnIsa.Variable));
        Assert.Contains(OneDnnIsa.Variable, OneDnnIsa.Explanation);
    }

    [Fact]
    public void TrainingStep_Unet3dAt64_GivesFiniteGradients()
    {
        // Uncapped, every convolution's weight gradient was NaN or infinite at this size on AVX-512.
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var g = new Generator(1777777);
        var x = randn([1, 2, 64, 64, 64], generator: g);
        var y = randint(0, 4, [1, 64, 64, 64], generator: g);
        torch.manual_seed(1777777);
        using var model = ModelZoo.Create("UNET3D", 2, 4, null);
        model.train();
        using var loss = LossFactory.Create("dice_ce");
        var l = loss.call(model.call(x), y);
        Assert.True(float.IsFinite(l.item<float>()));
        l.backward();
        var bad = model.named_parameters().Where(p => p.parameter.grad is { } gr && !gr.isfinite().all().item<bool>()).Select(p => p.name).ToList();
        Assert.True(bad.Count == 0, $"non-finite gradients in {bad.Count} parameters, e.g. {string.Join(", ", bad.Take(3))}");
    }

    [SkippableFact]
    public void BatchedConvolutions_Capped_AreExactSoNoPerSampleSplitIsNeeded()
    {
        Skip.IfNot(LinuxX64 && !OneDnnIsa.ChosenByUser, "checks MedZoo's own cap");
        TorchRuntime.EnsureLoaded();
        Assert.True(CpuConvolution.BatchedConvolutionIsExact());
    }
}
