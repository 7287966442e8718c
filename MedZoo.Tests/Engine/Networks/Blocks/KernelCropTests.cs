using MedZoo.Engine.Networks.Blocks;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks.Blocks;

public sealed class KernelCropTests
{
    private static ConvolutionSpec Conv(long padding, long stride = 1, long dilation = 1, long groups = 1) =>
        new(transposed: false, stride, padding, outputPadding: 0, dilation, groups);

    [Theory]
    [InlineData(new long[] { 1, 256, 2, 2, 2 }, 5, 2, new long[] { 1, 1, 1 }, new long[] { 3, 3, 3 }, new long[] { 1, 1, 1 }, "padding 1")]   // VNET's deepest level at 32³
    [InlineData(new long[] { 2, 8, 1, 1, 1 }, 3, 1, new long[] { 1, 1, 1 }, new long[] { 1, 1, 1 }, new long[] { 0, 0, 0 }, "padding 0")]     // one voxel: the centre tap
    [InlineData(new long[] { 1, 4, 2, 2, 6 }, 5, 2, new long[] { 1, 1, 0 }, new long[] { 3, 3, 5 }, new long[] { 1, 1, 2 }, "padding 1×1×2")] // some axes only
    public void Find_InputSmallerThanTheKernelsReach_KeepsTheTapsThatMeetVoxels(long[] input, long kernel, long padding, long[] start, long[] size,
                                                                               long[] keptPadding, string keyPadding)
    {
        var crop = KernelCrop.Find(input, [4, input[1], kernel, kernel, kernel], Conv(padding));
        Assert.NotNull(crop);
        Assert.Equal(start, crop.Start);
        Assert.Equal(size, crop.Size);
        Assert.Equal(keptPadding, crop.Spec.Padding.ToArray());
        Assert.Equal($"convolution stride 1 {keyPadding} dilation 1 groups 1", crop.Spec.Key);
        Assert.Equal(keptPadding.Distinct().Count() == 1, crop.Spec.UniformPadding);
    }

    [Theory]
    [InlineData(4, 5, 2, 1, 1, false)]  // 4 voxels: every tap of a 5-tap kernel meets one
    [InlineData(2, 5, 2, 2, 1, false)]  // strided
    [InlineData(2, 5, 2, 1, 2, false)]  // dilated
    [InlineData(2, 2, 0, 1, 1, false)]  // unpadded: every tap is used
    [InlineData(1, 3, 2, 1, 1, false)]  // padding wider than half the kernel: the output grows, every tap is used
    [InlineData(2, 5, 0, 1, 1, false)]  // no output voxel: left to libtorch's error
    [InlineData(2, 5, 2, 1, 1, true)]
    public void Find_CropsOnlyStrideOneUndilatedConvolutionsWithUnreachableTaps(long size, long kernel, long padding, long stride, long dilation, bool crops)
    {
        var crop = KernelCrop.Find([1, 4, size, size, size], [4, 4, kernel, kernel, kernel], Conv(padding, stride, dilation));
        Assert.Equal(crops, crop is not null);
        Assert.Null(KernelCrop.Find([1, 4, 2, 2, 2], [4, 4, 2, 2, 2], new ConvolutionSpec(true, 1, 0, 0, 1, 1))); // transposed
    }

    [Theory]
    [InlineData(1, 8, 8, 5, 2, new[] { 2, 2, 2 }, 1)]
    [InlineData(2, 6, 4, 5, 2, new[] { 2, 3, 6 }, 1)]
    [InlineData(2, 4, 4, 3, 1, new[] { 1, 1, 1 }, 1)]
    [InlineData(2, 8, 6, 3, 1, new[] { 1, 2, 1 }, 2)]
    public void Apply_CroppedKernel_MatchesTheFullConvolutionInFloat64(int batch, int cin, int cout, int k, int padding, int[] size, int groups)
    {
        using var scope = NewDisposeScope();
        var spec = Conv(padding, groups: groups);
        manual_seed(11);
        var x = randn([batch, cin, size[0], size[1], size[2]]);
        var w = randn([cout, cin / groups, k, k, k]) * 0.1;
        var b = randn([cout]);
        var crop = KernelCrop.Find(x.shape, w.shape, spec);
        Assert.NotNull(crop);

        var weightGradient = Float64Reference.AssertMatches((xi, wi, bi) => CpuConvolution.Apply(xi, wi, bi, spec), x, w, b, spec);
        // The dropped taps' gradient is exactly zero, as the full kernel's is there.
        var kept = zeros_like(weightGradient, dtype: ScalarType.Bool);
        crop.Apply(kept).fill_(true);
        Assert.Equal(0.0, weightGradient.masked_select(kept.logical_not()).abs().sum().item<float>());
        Assert.True(weightGradient.masked_select(kept).abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Apply_InsideFreezeWeights_CroppedCopyMatchesOutside()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var spec = Conv(2);
        manual_seed(12);
        var x = randn([1, 16, 2, 2, 2]);
        var w = randn([16, 16, 5, 5, 5]) * 0.05;
        var outside = CpuConvolution.Apply(x, w, null, spec);
        Tensor first, second;
        using (CpuConvolution.FreezeWeights())
        {
            first = CpuConvolution.Apply(x, w, null, spec);
            second = CpuConvolution.Apply(x * 2, w, null, spec);
        }
        Float64Reference.AssertClose(first, outside.to(float64));
        Float64Reference.AssertClose(second, (outside * 2).to(float64));
        Float64Reference.AssertClose(outside, spec.Run(x.to(float64), w.to(float64), null));
    }
}
