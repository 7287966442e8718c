using System.Runtime.InteropServices;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Losses;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Devices;

/// <summary>
/// oneDNN on this project's CPUs: libtorch 2.10's blocked AVX-512 convolutions gave NaN weight
/// gradients for UNET3D at 64³ and wrong batched results; MedZoo's channels-last route
/// (<see cref="CpuConvolution"/>) is right without capping the instruction set.
/// </summary>
public sealed class OneDnnIsaTests
{
    private static bool LinuxX64 => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [Fact]
    public void Apply_ReportsTheUsersChoiceAndCapsNothingItself()
    {
        OneDnnIsa.Apply();
        var fromEnvironment = Environment.GetEnvironmentVariable(OneDnnIsa.Variable);
        Assert.Equal(string.IsNullOrEmpty(fromEnvironment) ? null : fromEnvironment, OneDnnIsa.Effective);
        Assert.Equal(OneDnnIsa.Effective is not null, OneDnnIsa.ChosenByUser);
        Assert.Contains(OneDnnIsa.Effective is null ? "not capped" : OneDnnIsa.Variable, OneDnnIsa.Explanation);
    }

    [Fact]
    public void TrainingStep_Unet3dAt64_GivesFiniteGradients()
    {
        // On NCDHW data (oneDNN's blocked kernels), every convolution's weight gradient was NaN or
        // infinite at this size on AVX-512; MedZoo's route must give finite ones.
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
        Assert.True(bad.Count == 0, $"non-finite gradients in {bad.Count} parameters, e.g. {string.Join(", ", bad.Take(3))} ({CpuConvolution.Explanation})");
    }

    [SkippableFact]
    public void Route_OnThisProjectsMachines_IsChannelsLastWithoutACap()
    {
        // The development and CI machines are x86-64 Linux; there the self-test must pick the fast
        // route. (Elsewhere another route may be right, and this says nothing.)
        Skip.IfNot(LinuxX64 && !OneDnnIsa.ChosenByUser && Environment.GetEnvironmentVariable(CpuConvolution.Variable) is null,
            "checks MedZoo's own choice on x86-64 Linux");
        TorchRuntime.EnsureLoaded();
        Assert.Equal(CpuConvolutionRoute.ChannelsLast, CpuConvolution.Route);
    }
}
