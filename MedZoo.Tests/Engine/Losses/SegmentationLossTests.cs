using MedZoo.Engine.Losses;
using MedZoo.Engine.Networks;
using TorchSharp;
using static MedZoo.Tests.Engine.Losses.LossTestData;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Losses;

/// <summary>Properties every loss of the factory must have: gradients, no leaks, inputs left alone.</summary>
public class SegmentationLossTests
{
    public static TheoryData<string> Names => new(LossFactory.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_RandomLogits_GivesFiniteNonZeroGradientToLogits(string name)
    {
        using var scope = NewDisposeScope();
        var labels = Labels(2, 3, 5, seed: 100);
        var logits = RandomLogits(2, 3, 5, seed: 100);
        using var loss = LossFactory.Create(name);
        var value = loss.forward(logits, labels);
        Assert.Empty(value.shape);
        Assert.True(double.IsFinite(Scalar(value)));
        value.backward();
        var gradient = logits.grad!;
        Assert.True(gradient.isfinite().all().item<bool>(), $"{name}: non-finite gradient");
        Assert.True(Scalar(gradient.abs().sum()) > 0, $"{name}: no gradient reaches the logits");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_SaturatedLogits_KeepsGradientFinite(string name)
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 3, 4, seed: 101);
        var logits = (ConfidentLogits(labels, 3, margin: 200) - 100).requires_grad_(true);
        using var loss = LossFactory.Create(name, new LossOptions { FocalGamma = 0.5 });
        var value = loss.forward(logits, labels);
        value.backward();
        Assert.True(double.IsFinite(Scalar(value)), $"{name}: {Scalar(value)}");
        Assert.True(logits.grad!.isfinite().all().item<bool>(), $"{name}: non-finite gradient");
    }

    [Fact]
    public void Forward_Inputs_AreNeitherDisposedNorModified()
    {
        using var scope = NewDisposeScope();
        var labels = Labels(1, 3, 4, seed: 102);
        var logits = RandomLogits(1, 3, 4, seed: 102);
        var before = Array(logits);
        foreach (var name in LossFactory.Names)
        {
            using var loss = LossFactory.Create(name);
            loss.forward(logits, labels).Dispose();
        }
        Assert.Equal(before, Array(logits));
        Assert.Equal(3, labels.max().item<long>() + 1);
    }

    [Fact]
    public void ForwardBackward_200Steps_LeaveNoTensorBehind()
    {
        var labels = Labels(2, 3, 6, seed: 103);
        var logits = RandomLogits(2, 3, 6, seed: 103);
        var half = RandomLogits(2, 3, 3, seed: 104);
        var input = randn([2, 1, 6, 6, 6]);
        var vae = new VaeOutput(randn([2, 1, 6, 6, 6]).requires_grad_(true), randn(2, 8).requires_grad_(true), randn(2, 8).requires_grad_(true));
        var losses = LossFactory.Names.Select(n => LossFactory.Create(n)).ToArray();
        var output = new SegmentationOutput(logits, [half], vae);
        try
        {
            Step(0); // the first backward allocates the .grad tensors (they then accumulate in place)
            var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            for (var step = 1; step <= 200; step++)
                Step(step);
            Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        finally
        {
            foreach (var loss in losses) loss.Dispose();
            foreach (var t in new[] { labels, logits, half, input, vae.Reconstruction, vae.Mean, vae.LogVariance }) t.Dispose();
        }

        void Step(int step)
        {
            var loss = losses[step % losses.Length];
            using var value = loss.Compute(output, labels, input);
            value.backward();
        }
    }
}
