using System.Text.Json;
using MedZoo.Engine.Data;
using MedZoo.Engine.IO;
using MedZoo.Engine.Planning;

namespace MedZoo.Tests.Engine.Planning;

public class ReorientationTests
{
    /// <summary>Every permutation of the voxel axes with every combination of flips: the 48 axis-aligned orientations.</summary>
    public static TheoryData<int[], bool[]> AxisAligned()
    {
        var rows = new TheoryData<int[], bool[]>();
        int[][] perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        foreach (var p in perms)
            for (var f = 0; f < 8; f++)
                rows.Add(p, [(f & 1) != 0, (f & 2) != 0, (f & 4) != 0]);
        return rows;
    }

    /// <summary>An affine whose voxel axis a points along world axis perm[a] (negative when flipped), with spacing and an origin.</summary>
    private static VolumeGeometry Geometry(int[] perm, bool[] flip, double[] spacing, double[] origin)
    {
        var a = new double[16];
        a[15] = 1;
        for (var axis = 0; axis < 3; axis++) a[perm[axis] * 4 + axis] = (flip[axis] ? -1 : 1) * spacing[axis];
        for (var r = 0; r < 3; r++) a[r * 4 + 3] = origin[r];
        return new VolumeGeometry(a);
    }

    [Theory]
    [MemberData(nameof(AxisAligned))]
    public void ApplyThenInvert_AnyAxisOrder_RestoresVoxelsBitForBit(int[] perm, bool[] flip)
    {
        var size = new SpatialSize(3, 4, 5);
        var geometry = Geometry(perm, flip, [1.5, 2, 3], [10, -20, 30]);
        var r = Reorientation.ToCanonical(geometry, size);
        var rng = new Random(perm[0] * 8 + (flip[0] ? 1 : 0));
        var data = Enumerable.Range(0, 60).Select(_ => (float)rng.NextDouble() * 1000 - 500).ToArray();
        data[7] = float.NaN;
        var labels = Enumerable.Range(0, 60).Select(i => (byte)(i % 7)).ToArray();
        Assert.Equal(data.Select(BitConverter.SingleToInt32Bits), r.Invert<float>(r.Apply<float>(data)).Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(labels, r.Invert<byte>(r.Apply<byte>(labels)));
        Assert.Same(geometry, r.Source);
        Assert.Equal("RAS", GridOrientation.Codes(r.Target));
    }

    [Theory]
    [MemberData(nameof(AxisAligned))]
    public void Apply_AnyAxisOrder_EveryVoxelKeepsItsWorldPosition(int[] perm, bool[] flip)
    {
        var size = new SpatialSize(3, 4, 5);
        var geometry = Geometry(perm, flip, [1.5, 2, 3], [10, -20, 30]);
        var r = Reorientation.ToCanonical(geometry, size);
        // Tag every source voxel with its index, then check where each tag landed.
        var tags = Enumerable.Range(0, 60).ToArray();
        var moved = r.Apply<int>(tags);
        var t = r.TargetSize;
        for (var k = 0; k < t.D; k++)
            for (var j = 0; j < t.H; j++)
                for (var i = 0; i < t.W; i++)
                {
                    var (sd, sh, sw) = size.Coordinates(moved[t.Index(k, j, i)]);
                    var expected = geometry.VoxelToWorld(sw, sh, sd);
                    var actual = r.Target.VoxelToWorld(i, j, k);
                    Assert.Equal(expected.X, actual.X, 9);
                    Assert.Equal(expected.Y, actual.Y, 9);
                    Assert.Equal(expected.Z, actual.Z, 9);
                }
    }

    [Fact]
    public void ToCanonical_RasGrid_IsIdentity()
    {
        var g = VolumeGeometry.FromSpacing(1, 2, 3, 4, 5, 6);
        var r = Reorientation.ToCanonical(g, new SpatialSize(2, 3, 4));
        Assert.True(r.IsIdentity);
        Assert.Equal(g, r.Target);
    }

    [Fact]
    public void Of_CollapsedAxis_ThrowsSayingTheOrientationIsUndefined()
    {
        var g = new VolumeGeometry([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [1, 1, 1]);
        var e = Assert.Throws<ArgumentException>(() => GridOrientation.Of(g));
        Assert.Contains("orientation is undefined", e.Message);
    }

    [SkippableFact]
    public void CodesAndCanonicalAffine_AxisAlignedAndObliqueAffines_EqualNibabels()
    {
        PlanningReference.Require();
        var rng = new Random(3);
        var cases = new List<(double[] Affine, int[] Shape)>();
        foreach (var row in AxisAligned())
        {
            var perm = (int[])row[0];
            var flip = (bool[])row[1];
            cases.Add((Geometry(perm, flip, [0.9, 1.3, 2.7], [rng.Next(-90, 90), rng.Next(-90, 90), rng.Next(-90, 90)]).Affine, [5, 6, 7]));
        }
        // Oblique acquisitions: rotations of up to 40 degrees about random axes, with anisotropic voxels.
        for (var n = 0; n < 30; n++)
        {
            var m = Rotation(rng.NextDouble() * 0.7, rng.NextDouble() * 0.7, rng.NextDouble() * 0.7);
            int[] perm = [.. new[] { 0, 1, 2 }.OrderBy(_ => rng.Next())];
            double[] spacing = [0.5 + rng.NextDouble() * 3, 0.5 + rng.NextDouble() * 3, 0.5 + rng.NextDouble() * 3];
            var a = new double[16];
            a[15] = 1;
            for (var axis = 0; axis < 3; axis++)
                for (var r = 0; r < 3; r++)
                    a[r * 4 + axis] = m[r, perm[axis]] * spacing[axis] * (rng.Next(2) == 0 ? 1 : -1);
            for (var r = 0; r < 3; r++) a[r * 4 + 3] = rng.NextDouble() * 200 - 100;
            cases.Add((a, [4 + n % 3, 5, 6 + n % 4]));
        }
        var input = JsonSerializer.Serialize(cases.Select(c => new { affine = c.Affine, shape = c.Shape }));
        var expected = JsonDocument.Parse(PlanningReference.Run(["orient"], input)).RootElement.EnumerateArray().ToList();
        for (var i = 0; i < cases.Count; i++)
        {
            var geometry = new VolumeGeometry(cases[i].Affine);
            var size = new SpatialSize(cases[i].Shape[2], cases[i].Shape[1], cases[i].Shape[0]);
            Assert.Equal(expected[i].GetProperty("codes").GetString(), GridOrientation.Codes(geometry));
            var r = Reorientation.ToCanonical(geometry, size);
            var canonical = expected[i].GetProperty("canonical").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var actual = r.Target.Affine;
            for (var k = 0; k < 16; k++) Assert.True(Math.Abs(canonical[k] - actual[k]) < 1e-9, $"case {i}: affine[{k}] {actual[k]} vs nibabel {canonical[k]}");
            var shape = expected[i].GetProperty("canonicalShape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(shape, new[] { r.TargetSize.W, r.TargetSize.H, r.TargetSize.D });
        }
    }

    private static double[,] Rotation(double ax, double ay, double az)
    {
        double[,] x = { { 1, 0, 0 }, { 0, Math.Cos(ax), -Math.Sin(ax) }, { 0, Math.Sin(ax), Math.Cos(ax) } };
        double[,] y = { { Math.Cos(ay), 0, Math.Sin(ay) }, { 0, 1, 0 }, { -Math.Sin(ay), 0, Math.Cos(ay) } };
        double[,] z = { { Math.Cos(az), -Math.Sin(az), 0 }, { Math.Sin(az), Math.Cos(az), 0 }, { 0, 0, 1 } };
        return Multiply(Multiply(z, y), x);
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        var c = new double[3, 3];
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                for (var k = 0; k < 3; k++) c[i, j] += a[i, k] * b[k, j];
        return c;
    }
}
