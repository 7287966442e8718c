using MedZoo.Engine.Inference;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Inference;

public class PostprocessingTests
{
    // A 1×4×4 slab: class 1 has a 3-voxel blob and a single voxel touching it only diagonally; class 2 has two islands.
    private static readonly int[] Slab =
    [
        1, 1, 0, 2,
        1, 0, 0, 0,
        0, 1, 0, 2,
        2, 0, 0, 2,
    ];

    [Theory]
    [InlineData(Connectivity.Faces6, new[] { 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2 })]
    [InlineData(Connectivity.Corners26, new[] { 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 2 })]
    public void KeepLargestComponent_DependsOnConnectivity(Connectivity connectivity, int[] expected)
    {
        var labels = (int[])Slab.Clone();
        Postprocessing.KeepLargestComponent(labels, 1, 4, 4, connectivity);
        Assert.Equal(expected, labels);
    }

    [Fact]
    public void KeepLargestComponent_SelectedClassesOnly_LeavesOthers()
    {
        var labels = (int[])Slab.Clone();
        var removed = Postprocessing.KeepLargestComponent(labels, 1, 4, 4, Connectivity.Faces6, classes: [2]);
        Assert.Equal(2, removed);
        Assert.Equal(1, labels[9]); // class 1's diagonal voxel survives: class 1 was not selected
        Assert.Equal(0, labels[3]);
    }

    [Fact]
    public void KeepLargestComponent_Tensor_BatchedMatchesArrays()
    {
        using var scope = NewDisposeScope();
        var a = tensor(Slab.Select(v => (long)v).ToArray(), [1, 1, 4, 4]);
        var batched = cat([a, a], 0);
        var result = Postprocessing.KeepLargestComponent(batched, Connectivity.Faces6);
        Assert.Equal(ScalarType.Int64, result.dtype);
        var expected = (int[])Slab.Clone();
        Postprocessing.KeepLargestComponent(expected, 1, 4, 4, Connectivity.Faces6);
        var flat = result.data<long>().ToArray();
        Assert.Equal(expected.Concat(expected).Select(v => (long)v), flat);
    }

    [Fact]
    public void KeepLargestComponent_WrongLength_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Postprocessing.KeepLargestComponent(new int[10], 2, 2, 2));
        Assert.Contains("needs 8", e.Message);
    }
}
