using MedZoo.Engine.Networks.Blocks;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks.Blocks;

public sealed class KernelCropTests
{
    private static ConvolutionSpec Conv(long padding, long stride = 1, long dilation = 1, long groups = 1) =>
        new(transposed: false, stride, padding, outputPadding: 0, dilation, groups);

    [Fact]
    public void Find_VNetDeepestLevelAt32Patches_KeepsTheCentral3x3x3Taps()
    {
        var crop = KernelCrop.Find([1, 256, 2, 2, 2], [256, 256, 5, 5, 5], Conv(2));
        Assert.NotNull(crop);
        Assert.Equal(new long[] { 1, 1, 1 }, crop.Start);
        Assert.Equal(new long[] { 3, 3, 3 }, crop.Size);
        Assert.Equal(new long[] { 1, 1, 1 }, crop.Spec.Padding.ToArray());
        Assert.Equal("convolution stride 1 padding 1 dilation 1 groups 1", crop.Spec.Key);
    }

    [Fact]
    public void Find_OneVoxel_KeepsTheCentreTapOnly()
    {
        var crop = KernelCrop.Find([2, 8, 1, 1, 1], [16, 8, 3, 3, 3], Conv(1));
        Assert.NotNull(crop);
        Assert.Equal(new long[] { 1, 1, 1 }, crop.Start);
        Assert.Equal(new long[] { 1, 1, 1 }, crop.Size);
        Assert.Equal(new long[] { 0, 0, 0 }, crop.Spec.Padding.ToArray());
    }

    [Fact]
    public void Find_OnlySomeAxesSmall_CropsThoseAxesAndNamesEachPadding()
    {
        var crop = KernelCrop.Find([1, 4, 2, 2, 6], [4, 4, 5, 5, 5], Conv(2));
        Assert.NotNull(crop);
        Assert.Equal(new long[] { 1, 1, 0 }, crop.Start);
        Assert.Equal(new long[] { 3, 3, 5 }, crop.Size);
        Assert.Equal(new long[] { 1, 1, 2 }, crop.Spec.Padding.ToArray());
        Assert.Equal("convolution stride 1 padding 1×1×2 dilation 1 groups 1", crop.Spec.Key);
        Assert.False(crop.Spec.UniformPadding);
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
        var x = randn([batch, cin, size[0], size[1], size[2]]).requires_grad_(true);
        var w = (randn([cout, cin / groups, k, k, k]) * 0.1).requires_grad_(true);
        var b = randn([cout]).requires_grad_(true);
        var crop = KernelCrop.Find(x.shape, w.shape, spec);
        Assert.NotNull(crop);

        var y = CpuConvolution.Apply(x, w, b, spec);
        var upstream = randn(y.shape);
        y.backward([upstream]);
        var x64 = x.detach().to(float64).requires_grad_(true);
        var w64 = w.detach().to(float64).requires_grad_(true);
        var b64 = b.detach().to(float64).requires_grad_(true);
        var y64 = spec.Run(x64, w64, b64);
        y64.backward([upstream.to(float64)]);

        Assert.Equal(y64.shape, y.shape);
        AssertClose(y, y64);
        AssertClose(x.grad!, x64.grad!);
        AssertClose(w.grad!, w64.grad!);
        AssertClose(b.grad!, b64.grad!);
        // The dropped taps' gradient is exactly zero, as the full kernel's is there.
        var kept = zeros_like(w.grad!, dtype: ScalarType.Bool);
        crop.Apply(kept).fill_(true);
        Assert.Equal(0.0, w.grad!.masked_select(kept.logical_not()).abs().sum().item<float>());
        Assert.True(w.grad!.masked_select(kept).abs().sum().item<float>() > 0);
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
        AssertClose(first, outside.to(float64));
        AssertClose(second, (outside * 2).to(float64));
        AssertClose(outside, spec.Run(x.to(float64), w.to(float64), null));
    }

    private static void AssertClose(Tensor actual, Tensor reference)
    {
        var scale = reference.abs().max().item<double>();
        var err = (actual.to(float64) - reference).abs().max().item<double>();
        Assert.True(err <= 1e-4 * scale, $"relative error {err / scale:E2}");
    }
}
