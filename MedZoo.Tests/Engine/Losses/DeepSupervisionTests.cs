using MedZoo.Engine.Losses;
using MedZoo.Engine.Networks;
using TorchSharp;
using static MedZoo.Tests.Engine.Losses.LossTestData;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Losses;

public class DeepSupervisionTests
{
    [Theory]
    [InlineData(1, new[] { 1.0 })]
    [InlineData(2, new[] { 2.0 / 3, 1.0 / 3 })]
    [InlineData(3, new[] { 4.0 / 7, 2.0 / 7, 1.0 / 7 })]
    public void LevelWeights_HalvePerLevelAndSumToOne(int levels, double[] expected)
    {
        Assert.Equal(expected, DeepSupervision.LevelWeights(levels), new ToleranceComparer(1e-12));
    }

    [Fact]
    public void DownsampleTarget_Nearest_SubsamplesLabels()
    {
        using var scope = NewDisposeScope();
        var labels = Labels([1, 1, 2, 2, 0, 1, 2, 0], 1, 1, 1, 8);
        var down = DeepSupervision.DownsampleTarget(OneHot(labels, 3), [1, 1, 4], DeepSupervisionTargetMode.Nearest);
        Assert.Equal(new long[] { 1, 3, 1, 1, 4 }, down.shape);
        Assert.Equal(new double[] { 1, 2, 0, 2 }, Array(down.argmax(1)));
    }

    [Fact]
    public void DownsampleTarget_MaxPool_MarksEveryClassOfTheBlock()
    {
        using var scope = NewDisposeScope();
        var labels = Labels([1, 1, 2, 0, 0, 0, 2, 2], 1, 1, 1, 8);
        var down = DeepSupervision.DownsampleTarget(OneHot(labels, 3), [1, 1, 4], DeepSupervisionTargetMode.MaxPool);
        // Blocks {1,1} {2,0} {0,0} {2,2} → classes present per block, channel by channel.
        Assert.Equal(new double[] { 0, 1, 1, 0, /* class 1 */ 1, 0, 0, 0, /* class 2 */ 0, 1, 0, 1 }, Array(down));
    }

    [Fact]
    public void Compute_WithDeepSupervision_IsWeightedSumOverLevels()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 8, seed: 70);
        var main = RandomLogits(2, 3, 8, seed: 70);
        var half = RandomLogits(2, 3, 4, seed: 71);
        var quarter = RandomLogits(2, 3, 2, seed: 72);
        var loss = new DiceCELoss();
        var output = new SegmentationOutput(main, [half, quarter]);
        var oneHot = OneHot(labels, 3);
        var expected = 4.0 / 7 * Scalar(loss.forward(main, labels))
            + 2.0 / 7 * Scalar(loss.forward(half, DeepSupervision.DownsampleTarget(oneHot, [4, 4, 4], DeepSupervisionTargetMode.Nearest)))
            + 1.0 / 7 * Scalar(loss.forward(quarter, DeepSupervision.DownsampleTarget(oneHot, [2, 2, 2], DeepSupervisionTargetMode.Nearest)));
        var total = loss.Compute(output, labels);
        Assert.Equal(expected, Scalar(total), 1e-5);

        total.backward();
        Assert.NotNull(quarter.grad);
        Assert.True(Scalar(quarter.grad!.abs().sum()) > 0, "the coarsest level must receive gradient");
    }

    [Fact]
    public void Compute_DeepSupervisionOff_UsesMainLogitsOnly()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 3, 8, seed: 73);
        var main = RandomLogits(1, 3, 8, seed: 73);
        var output = new SegmentationOutput(main, [RandomLogits(1, 3, 4, seed: 74)]);
        var loss = new DiceLoss(new LossOptions { DeepSupervision = false });
        Assert.Equal(Scalar(loss.forward(main, labels)), Scalar(loss.Compute(output, labels)), 1e-6);
        Assert.Equal(Scalar(loss.forward(main, labels)), Scalar(new DiceLoss().Compute(SegmentationOutput.Of(main), labels)), 1e-6);
    }

    [Fact]
    public void Compute_LevelWithOtherClassCount_ThrowsNamingTheLevel()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 3, 8, seed: 75);
        var output = new SegmentationOutput(RandomLogits(1, 3, 8, seed: 75), [RandomLogits(1, 2, 4, seed: 76)]);
        var e = Assert.Throws<ArgumentException>(() => new DiceLoss().Compute(output, labels));
        Assert.Contains("deep-supervision output 0", e.Message);
    }
}
