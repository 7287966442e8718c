using MedZoo.Engine.Training;

namespace MedZoo.Tests.Engine.Training;

public sealed class SliceCutterTests
{
    // (D, H, W) = (3, 4, 5); a voxel's value encodes its position: 100·d + 10·h + w.
    private static readonly int[] Volume = Enumerable.Range(0, 60).Select(i => 100 * (i / 20) + 10 * (i / 5 % 4) + i % 5).ToArray();

    [Theory]
    [InlineData(SlicePlane.Axial, 2, false, 4, 5)]
    [InlineData(SlicePlane.Axial, 2, true, 4, 5)]
    [InlineData(SlicePlane.Coronal, 1, false, 3, 5)]
    [InlineData(SlicePlane.Coronal, 1, true, 3, 5)]
    [InlineData(SlicePlane.Sagittal, 3, false, 3, 4)]
    [InlineData(SlicePlane.Sagittal, 3, true, 3, 4)]
    public void Cut_EachPlane_RowsAndColumnsAreTheRightAxes(SlicePlane plane, int index, bool superiorUp, int rows, int columns)
    {
        var (pixels, r, c) = SliceCutter.Cut<int>(Volume, 3, 4, 5, plane, index, superiorUp, v => (byte)(v % 256));
        Assert.Equal((rows, columns), (r, c));
        for (var row = 0; row < rows; row++)
            for (var column = 0; column < columns; column++)
            {
                var d = superiorUp ? rows - 1 - row : row; // coronal and sagittal rows are D
                var expected = plane switch
                {
                    SlicePlane.Axial => 100 * index + 10 * row + column,
                    SlicePlane.Coronal => 100 * d + 10 * index + column,
                    _ => 100 * d + 10 * column + index,
                };
                Assert.Equal((byte)(expected % 256), pixels[row * columns + column]);
            }
    }

    [Theory]
    [InlineData(SlicePlane.Axial, 3)]
    [InlineData(SlicePlane.Coronal, -1)]
    [InlineData(SlicePlane.Sagittal, 5)]
    public void Cut_IndexOutsideThePlane_Throws(SlicePlane plane, int index) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SliceCutter.Cut<int>(Volume, 3, 4, 5, plane, index, false, v => 0));

    [Fact]
    public void Cut_WrongVolumeLength_Throws() =>
        Assert.Contains("needs 60", Assert.Throws<ArgumentException>(() => SliceCutter.Cut<int>(Volume.AsSpan(1), 3, 4, 5, SlicePlane.Axial, 0, false, v => 0)).Message);
}
