using MedZoo.Engine.Data;
using MedZoo.Engine.Training;
using MedZoo.Web.Imaging;

namespace MedZoo.Tests.Web.Imaging;

public sealed class SliceExtractorTests
{
    // Voxel value encodes its position: 100·d + 10·h + w.
    private static readonly SpatialSize Size = new(3, 4, 5);
    private static readonly byte[] Volume = Enumerable.Range(0, 60).Select(i => { var (d, h, w) = Size.Coordinates(i); return (byte)(100 * d + 10 * h + w); }).ToArray();

    [Fact]
    public void Labels_Axial_IsHRowsOfWAtThatD()
    {
        var s = SliceExtractor.Labels(Volume, Size, SlicePlane.Axial, 2, [0.5, 0.7, 2.0]);
        Assert.Equal((5, 4), (s.Width, s.Height));
        Assert.Equal(200 + 10 * 3 + 4, s.Pixels[3 * 5 + 4]);
        Assert.Equal((0.5, 0.7), (s.PixelWidthMm, s.PixelHeightMm));
    }

    [Fact]
    public void Labels_Coronal_HasDRowsWithTheTopSliceFirst()
    {
        var s = SliceExtractor.Labels(Volume, Size, SlicePlane.Coronal, 1, [0.5, 0.7, 2.0]);
        Assert.Equal((5, 3), (s.Width, s.Height));
        Assert.Equal(200 + 10 + 0, s.Pixels[0]);   // top row = highest d
        Assert.Equal(0 + 10 + 4, s.Pixels[2 * 5 + 4]);
        Assert.Equal((0.5, 2.0), (s.PixelWidthMm, s.PixelHeightMm));
    }

    [Fact]
    public void Labels_Sagittal_ShowsDByH()
    {
        var s = SliceExtractor.Labels(Volume, Size, SlicePlane.Sagittal, 3, [0.5, 0.7, 2.0]);
        Assert.Equal((4, 3), (s.Width, s.Height));
        Assert.Equal(200 + 30 + 3, s.Pixels[3]);
        Assert.Equal((0.7, 2.0), (s.PixelWidthMm, s.PixelHeightMm));
    }

    [Theory]
    [InlineData(SlicePlane.Axial, 3)]
    [InlineData(SlicePlane.Coronal, -1)]
    [InlineData(SlicePlane.Sagittal, 5)]
    public void Labels_IndexOutOfRange_ThrowsNamingTheRange(SlicePlane plane, int index)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SliceExtractor.Labels(Volume, Size, plane, index, [1, 1, 1]));
        Assert.Contains(plane.ToString(), e.Message);
    }

    [Fact]
    public void Intensities_Window_MapsLowToZeroAndHighTo255()
    {
        var image = Enumerable.Range(0, 60).Select(i => (float)i).ToArray();
        var s = SliceExtractor.Intensities(image, Size, SlicePlane.Axial, 0, [1, 1, 1], 5, 15);
        Assert.Equal(0, s.Pixels[0]);
        Assert.Equal(127, s.Pixels[10]);
        Assert.Equal(255, s.Pixels[19]);
    }

    [Fact]
    public void Window_IgnoresZerosAndOutliers()
    {
        var image = new float[10_000];
        for (var i = 5000; i < 10_000; i++) image[i] = i % 100;
        image[9999] = 1e9f;
        var (lo, hi) = SliceExtractor.Window(image);
        Assert.InRange(lo, 0, 2);
        Assert.InRange(hi, 97, 99);
    }

    [Fact]
    public void Intensities_SameVolume_SameBytesAsTheTrainingPreview()
    {
        // One window for both: the viewer's slice of a volume is the trainer's preview of it, byte for byte.
        var size = new SpatialSize(5, 6, 7);
        var image = new float[size.Voxels];
        for (var i = 0; i < image.Length; i++) image[i] = i % 11 == 0 ? 0 : (float)Math.Sin(i) * 100 + i;
        image[17] = 1e6f; // an outlier both clip
        var preview = SlicePreviews.Create("r", 1, "s", image, new int[image.Length], [], false, size.D, size.H, size.W, (1, 1, 1), 0.5)
            .Single(p => p.Plane == SlicePlane.Axial);
        var (low, high) = SliceExtractor.Window(image);
        var slice = SliceExtractor.Intensities(image, size, SlicePlane.Axial, preview.SliceIndex, [1, 1, 1], low, high);
        Assert.Equal(preview.Image, slice.Pixels);
        Assert.Equal(DisplayWindow.Of(image), (low, high));
    }
}
