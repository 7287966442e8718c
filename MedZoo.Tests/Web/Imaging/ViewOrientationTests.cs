using MedZoo.Engine.IO;
using MedZoo.Web.Imaging;

namespace MedZoo.Tests.Web.Imaging;

public sealed class ViewOrientationTests
{
    [Theory]
    // axis codes, plane, expected (fixed, column, flipColumns, row, flipRows)
    [InlineData("RAS", ViewPlane.Axial, 2, 0, true, 1, true)]      // i points R: radiological puts R on the left, so columns run backwards
    [InlineData("RAS", ViewPlane.Coronal, 1, 0, true, 2, true)]
    [InlineData("RAS", ViewPlane.Sagittal, 0, 1, true, 2, true)]   // anterior on the left, superior up
    [InlineData("LPS", ViewPlane.Axial, 2, 0, false, 1, false)]    // DICOM order: i already runs R→L, j A→P
    [InlineData("LAS", ViewPlane.Axial, 2, 0, false, 1, true)]
    [InlineData("ASR", ViewPlane.Axial, 1, 2, true, 0, true)]      // permuted axes: i is A, j is S, k is R
    [InlineData("ASR", ViewPlane.Sagittal, 2, 0, true, 1, true)]
    public void Plane_Radiological_MapsVoxelAxesToScreen(string codes, ViewPlane plane, int fixedAxis, int column, bool flipColumns, int row, bool flipRows)
    {
        var v = ViewOrientation.Plane(codes, plane, DisplayConvention.Radiological);
        Assert.Equal((fixedAxis, column, flipColumns, row, flipRows), (v.FixedAxis, v.ColumnAxis, v.FlipColumns, v.RowAxis, v.FlipRows));
    }

    [Theory]
    [InlineData(DisplayConvention.Radiological, ViewPlane.Axial, "R", "L", "A", "P")]
    [InlineData(DisplayConvention.Radiological, ViewPlane.Coronal, "R", "L", "S", "I")]
    [InlineData(DisplayConvention.Radiological, ViewPlane.Sagittal, "A", "P", "S", "I")]
    [InlineData(DisplayConvention.Neurological, ViewPlane.Axial, "L", "R", "A", "P")]
    [InlineData(DisplayConvention.Neurological, ViewPlane.Coronal, "L", "R", "S", "I")]
    [InlineData(DisplayConvention.Neurological, ViewPlane.Sagittal, "A", "P", "S", "I")]
    public void Plane_EdgeLabels_FollowTheConvention(DisplayConvention convention, ViewPlane plane, string left, string right, string top, string bottom)
    {
        foreach (var codes in new[] { "RAS", "LPS", "LAS", "ASR", "PIL" })
        {
            var v = ViewOrientation.Plane(codes, plane, convention);
            Assert.Equal((left, right, top, bottom), (v.Left, v.Right, v.Top, v.Bottom));
        }
    }

    [Theory]
    [InlineData("RAS")]
    [InlineData("LPS")]
    [InlineData("ASR")]
    [InlineData("PIL")]
    public void For_AnyStorageOrder_ShowsTheSameAnatomyAtTheSameScreenPlace(string codes)
    {
        // A world-space point's screen position must not depend on how the file stores its axes:
        // build the affine of each code and check the voxel at the screen's left edge is the patient's rightmost.
        var dims = (X: 4, Y: 5, Z: 6);
        var geometry = Geometry(codes);
        var axial = ViewOrientation.For(geometry)[0];
        var (cols, rows) = axial.SliceSize(dims);
        var left = axial.ToVoxel(dims, 0, 0, rows / 2);
        var right = axial.ToVoxel(dims, 0, cols - 1, rows / 2);
        var xl = geometry.VoxelToWorld(left.I, left.J, left.K).X;
        var xr = geometry.VoxelToWorld(right.I, right.J, right.K).X;
        Assert.True(xl > xr, $"{codes}: the left edge (x={xl}) must be further right (RAS x larger) than the right edge (x={xr})");
        var top = axial.ToVoxel(dims, 0, cols / 2, 0);
        var bottom = axial.ToVoxel(dims, 0, cols / 2, rows - 1);
        Assert.True(geometry.VoxelToWorld(top.I, top.J, top.K).Y > geometry.VoxelToWorld(bottom.I, bottom.J, bottom.K).Y, $"{codes}: anterior must be at the top");
    }

    [Theory]
    [InlineData("R?S")]
    [InlineData("RRS")]
    [InlineData("")]
    public void For_UnusableCodes_FallsBackToRas(string codes) =>
        Assert.Equal(ViewOrientation.For("RAS"), ViewOrientation.For(codes));

    [Fact]
    public void FromVoxel_InvertsToVoxel()
    {
        var dims = (X: 3, Y: 4, Z: 5);
        foreach (var v in ViewOrientation.For("LAS").Concat(ViewOrientation.For("ASR")))
            for (var i = 0; i < 3; i++)
                for (var j = 0; j < 4; j++)
                    for (var k = 0; k < 5; k++)
                    {
                        var (s, c, r) = v.FromVoxel(dims, (i, j, k));
                        Assert.Equal((i, j, k), v.ToVoxel(dims, s, c, r));
                    }
    }

    /// <summary>An affine whose voxel axes point along <paramref name="codes"/>, spacing 1.</summary>
    internal static VolumeGeometry Geometry(string codes)
    {
        var a = new double[16];
        for (var axis = 0; axis < 3; axis++)
        {
            var world = ViewOrientation.World(codes[axis]);
            a[world * 4 + axis] = "RAS".Contains(codes[axis], StringComparison.Ordinal) ? 1 : -1;
        }
        a[15] = 1;
        return new VolumeGeometry(a);
    }
}

public sealed class PlaneSlicerTests
{
    // Voxel value encodes its position: 100·k + 10·j + i.
    private static readonly (int X, int Y, int Z) Dims = (4, 3, 2);
    private static readonly int[] Volume = Enumerable.Range(0, 24).Select(n => 100 * (n / 12) + 10 * (n / 4 % 3) + n % 4).ToArray();

    [Fact]
    public void Extract_AxialOfRas_IsTheKSliceMirroredBothWays()
    {
        var v = ViewOrientation.Plane("RAS", ViewPlane.Axial, DisplayConvention.Radiological);
        var s = PlaneSlicer.Extract<int>(Volume, Dims, v, 1);
        Assert.Equal(4 * 3, s.Length);
        Assert.Equal(100 + 20 + 3, s[0]);           // top-left: most anterior (j = 2), patient's right (i = 3)
        Assert.Equal(100 + 0 + 0, s[^1]);           // bottom-right: posterior, left
    }

    [Fact]
    public void Extract_CoronalOfLps_HasSuperiorAtTheTop()
    {
        var v = ViewOrientation.Plane("LPS", ViewPlane.Coronal, DisplayConvention.Radiological);
        var s = PlaneSlicer.Extract<int>(Volume, Dims, v, 2);
        Assert.Equal((4, 2), v.SliceSize(Dims));
        Assert.Equal(100 + 20 + 0, s[0]);           // top row k = 1 (superior), left column i = 0 (LPS i runs R→L)
        Assert.Equal(0 + 20 + 3, s[^1]);
    }

    [Fact]
    public void Extract_Sagittal_MatchesToVoxelForEveryPixel()
    {
        var v = ViewOrientation.Plane("ASR", ViewPlane.Sagittal, DisplayConvention.Radiological);
        var s = PlaneSlicer.Extract<int>(Volume, Dims, v, 1);
        var (cols, rows) = v.SliceSize(Dims);
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
            {
                var (i, j, k) = v.ToVoxel(Dims, 1, c, r);
                Assert.Equal(100 * k + 10 * j + i, s[r * cols + c]);
            }
    }

    [Fact]
    public void Extract_SliceOutOfRange_Throws()
    {
        var v = ViewOrientation.Plane("RAS", ViewPlane.Axial, DisplayConvention.Radiological);
        Assert.Throws<ArgumentOutOfRangeException>(() => PlaneSlicer.Extract<int>(Volume, Dims, v, 2));
        Assert.Throws<ArgumentException>(() => PlaneSlicer.Extract<int>(Volume.AsSpan(1), Dims, v, 0));
    }
}

public sealed class ErrorMapTests
{
    private static readonly byte[] Prediction = [0, 1, 1, 2, 2, 0, 1];
    private static readonly byte[] Truth = [0, 1, 0, 1, 2, 2, 2];

    [Fact]
    public void Compute_OneClass_SeparatesFalsePositivesFromFalseNegatives()
    {
        var map = ErrorMap.Compute(Prediction, Truth, 1);
        Assert.Equal(
            [ErrorKind.None, ErrorKind.TruePositive, ErrorKind.FalsePositive, ErrorKind.FalseNegative, ErrorKind.None, ErrorKind.None, ErrorKind.FalsePositive],
            map);
    }

    [Fact]
    public void Compute_AllClasses_WrongForegroundIsFalsePositiveMissedIsFalseNegative()
    {
        var map = ErrorMap.Compute(Prediction, Truth, ErrorMap.AllClasses);
        Assert.Equal(
            [ErrorKind.None, ErrorKind.TruePositive, ErrorKind.FalsePositive, ErrorKind.FalsePositive, ErrorKind.TruePositive, ErrorKind.FalseNegative, ErrorKind.FalsePositive],
            map);
    }

    [Theory]
    [InlineData(1, 2, 1)]
    [InlineData(2, 1, 2)]
    [InlineData(ErrorMap.AllClasses, 3, 1)]
    public void Count_MatchesTheMap(int cls, long fp, long fn) =>
        Assert.Equal((fp, fn), ErrorMap.Count(Prediction, Truth, cls));

    [Fact]
    public void Compute_MismatchedLengthsOrBadClass_Throws()
    {
        Assert.Throws<ArgumentException>(() => ErrorMap.Compute(Prediction, Truth.AsSpan(1), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ErrorMap.Compute(Prediction, Truth, 256));
    }
}

public sealed class DisplayImageTests
{
    [Fact]
    public void Quantize_MapsTheRangeToSixteenBitsAndKeepsValuesWithinAStep()
    {
        float[] values = [-5, 0, 10, float.NaN, 2.5f];
        var d = DisplayImage.Quantize(values);
        Assert.Equal((-5f, 10f), (d.Min, d.Max));
        Assert.Equal((ushort)0, d.Levels[0]);
        Assert.Equal((ushort)65535, d.Levels[2]);
        Assert.Equal((ushort)0, d.Levels[3]);
        Assert.InRange(d.ValueOf(d.Levels[4]), 2.5 - 15.0 / 65535, 2.5 + 15.0 / 65535);
    }

    [Fact]
    public void Quantize_ConstantImage_HasAUsableRange()
    {
        var d = DisplayImage.Quantize([3, 3, 3]);
        Assert.True(d.Max > d.Min);
        Assert.True(d.WindowHigh > d.WindowLow);
    }
}
