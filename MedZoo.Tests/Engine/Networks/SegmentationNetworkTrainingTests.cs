using MedZoo.Engine.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks;

/// <summary>Training behaviour: networks learn, and repeated steps leave no tensors behind.</summary>
public class SegmentationNetworkTrainingTests
{
    [Theory]
    [InlineData("UNET3D_CICEK", 4, 2)]
    [InlineData("DENSEVOXELNET", 0, 0)]
    public void Train_OnePatch_CrossEntropyFallsClearly(string name, int baseFilters, int depth)
    {
        NetworkCases.Seed(7);
        var options = baseFilters == 0 ? null : new ModelOptions { BaseFilters = baseFilters, Depth = depth };
        using var net = ModelZoo.Create(name, 1, 3, options);
        using var optimizer = torch.optim.Adam(net.parameters(), lr: 0.01);
        using var x = Phantom(out var target);
        net.train();

        var losses = new List<float>();
        for (var step = 0; step < 40; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(net.call(x), target);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        target.Dispose();

        Assert.True(losses[^1] < 0.35f * losses[0], $"{name}: loss {losses[0]:F3} → {losses[^1]:F3} did not fall clearly ({string.Join(", ", losses.Select(l => l.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))})");
    }

    [Fact]
    public void Train_200Steps_LeavesNoTensorsBehind()
    {
        NetworkCases.Seed();
        using var net = ModelZoo.Create("UNET3D_CICEK", 1, 2, new ModelOptions { BaseFilters = 2, Depth = 1 });
        using var optimizer = torch.optim.Adam(net.parameters(), lr: 0.001);
        using var x = torch.randn([2, 1, 8, 8, 8]);
        using var target = (x > 0).to(ScalarType.Int64).squeeze(1);
        net.train();

        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var output = net.ForwardWithAuxiliary(x);
            var loss = nn.functional.cross_entropy(output.Logits, target);
            loss.backward();
            optimizer.step();
        }

        Step(); // the optimizer creates its state on the first step
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 200; i++) Step();

        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    /// <summary>A 16³ one-channel phantom: background, a shell and a core, each with its own intensity plus noise.</summary>
    private static Tensor Phantom(out Tensor target)
    {
        using var scope = NewDisposeScope();
        var axis = torch.linspace(-1, 1, 16);
        var grid = torch.meshgrid([axis, axis, axis], indexing: "ij");
        var r = (grid[0].square() + grid[1].square() + grid[2].square()).sqrt();
        var labels = torch.zeros([16, 16, 16], ScalarType.Int64);
        labels.masked_fill_(r < 0.8, 1);
        labels.masked_fill_(r < 0.4, 2);
        var image = labels.to(ScalarType.Float32) + 0.3f * torch.randn([16, 16, 16]);
        target = labels.unsqueeze(0).MoveToOuterDisposeScope();
        return image.reshape(1, 1, 16, 16, 16).MoveToOuterDisposeScope();
    }
}
