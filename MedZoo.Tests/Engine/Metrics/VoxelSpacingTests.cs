using MedZoo.Engine.IO;
using MedZoo.Engine.Metrics;

namespace MedZoo.Tests.Engine.Metrics;

public class VoxelSpacingTests
{
    [Fact]
    public void FromIjk_FileOrder_MapsToDepthHeightWidth()
    {
        var spacing = VoxelSpacing.FromIjk(0.5, 0.8, 3);
        Assert.Equal(3, spacing.Depth);
        Assert.Equal(0.8, spacing.Height);
        Assert.Equal(0.5, spacing.Width);
        Assert.Equal(1.2, spacing.VoxelVolume, 12);
    }

    [Fact]
    public void FromGeometry_UsesTheGeometrysIjkSpacing()
    {
        Assert.Equal(VoxelSpacing.FromIjk(0.5, 0.8, 3), VoxelSpacing.FromGeometry(VolumeGeometry.FromSpacing(0.5, 0.8, 3)));
    }

    [Theory]
    [InlineData(0, 1, 1, "depth")]
    [InlineData(1, -1, 1, "height")]
    [InlineData(1, 1, double.NaN, "width")]
    public void Constructor_NonPositiveSpacing_ThrowsNamingTheAxis(double d, double h, double w, string axis)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new VoxelSpacing(d, h, w));
        Assert.Equal(axis, e.ParamName);
    }

    [Fact]
    public void Default_IsNotValid()
    {
        Assert.False(default(VoxelSpacing).IsValid);
        Assert.True(VoxelSpacing.Isotropic().IsValid);
    }
}
