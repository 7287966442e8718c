using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks.Blocks;

public class ParameterInitializationTests
{
    private static float[] NextDraws(long seed, Action between)
    {
        manual_seed(seed);
        between();
        using var draws = rand(8);
        return draws.data<float>().ToArray();
    }

    [Fact]
    public void CountParameters_EveryModel_LeavesTheGlobalGeneratorWhereItWas()
    {
        var untouched = NextDraws(11, () => { });
        var afterCounting = NextDraws(11, () =>
        {
            foreach (var m in ModelZoo.Models) m.CountParameters(2, 4);
        });

        Assert.Equal(untouched, afterCounting);
    }

    [Fact]
    public void Create_OutsideSkip_StillDrawsItsInitialWeights()
    {
        var untouched = NextDraws(11, () => { });
        var afterBuilding = NextDraws(11, () => ModelZoo.Create("UNET3D_CICEK", 1, 2, new ModelOptions { BaseFilters = 4, Depth = 2 }).Dispose());

        Assert.NotEqual(untouched, afterBuilding);
    }

    [Fact]
    public void Skip_IsPerThreadAndEndsWithItsScope()
    {
        var elsewhere = true;
        using (ParameterInitialization.Skip())
        {
            Assert.True(ParameterInitialization.Skipped);
            var other = new Thread(() => elsewhere = ParameterInitialization.Skipped);
            other.Start();
            other.Join();
        }
        Assert.False(elsewhere);
        Assert.False(ParameterInitialization.Skipped);
    }

    [Fact]
    public void Skip_DisposedOnAnotherThread_Throws()
    {
        var skip = ParameterInitialization.Skip();
        Exception? error = null;
        var other = new Thread(() => error = Record.Exception(skip.Dispose));
        other.Start();
        other.Join();
        skip.Dispose();

        Assert.IsType<InvalidOperationException>(error);
        Assert.False(ParameterInitialization.Skipped);
    }

    [Fact]
    public void LinearLayer_SameSeed_SameWeightsAndOutputAsTorchLinear()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var ours = new LinearLayer(12, 5);
        manual_seed(4);
        using var torchs = nn.Linear(12, 5);
        var x = randn(3, 12);

        Assert.True(ours.weight.allclose(torchs.weight, rtol: 0, atol: 0));
        Assert.True(ours.bias!.allclose(torchs.bias!, rtol: 0, atol: 0));
        Assert.True(ours.forward(x).allclose(torchs.forward(x)));
        Assert.Equal(["weight", "bias"], ours.state_dict().Keys);
    }

    [Fact]
    public void LinearLayer_NoFeatures_ThrowsNamingTheSizes()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LinearLayer(0, 5));
        Assert.Contains("0 → 5", e.Message);
    }
}
