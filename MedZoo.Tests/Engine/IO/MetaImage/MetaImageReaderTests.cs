using System.IO.Compression;
using System.Text;
using MedZoo.Engine.IO;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.IO.MetaImage;

/// <summary>MetaImage headers as ITK and MetaIO write them, including their synonyms and variants.</summary>
public class MetaImageReaderTests
{
    private static string Write(TempFolder tmp, string name, string header, byte[] data)
    {
        var path = tmp.File(name);
        File.WriteAllBytes(path, [.. Encoding.ASCII.GetBytes(header), .. data]);
        return path;
    }

    [Theory]
    [InlineData("Offset", "TransformMatrix", "ElementSpacing")]
    [InlineData("Origin", "Rotation", "ElementSpacing")]
    [InlineData("Position", "Orientation", "ElementSize")]
    public void Read_GeometryKeysAndSynonyms_GiveRasAffineOfLpsHeader(string offsetKey, string matrixKey, string spacingKey)
    {
        using var tmp = TestPaths.NewTempFolder();
        // Axis i points to +y (LPS), axis j to −x, axis k to +z: TransformMatrix lists each axis's direction in turn.
        var header = $"ObjectType = Image\nNDims = 3\n{offsetKey} = 10 20 30\n{matrixKey} = 0 1 0 -1 0 0 0 0 1\n{spacingKey} = 2 3 4\nDimSize = 2 2 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n";
        var path = Write(tmp, "g.mha", header, new byte[8]);

        var v = VolumeIO.Read(path);

        Assert.Equal([0, 3, 0, -10, -2, 0, 0, -20, 0, 0, 4, 30, 0, 0, 0, 1], v.Geometry.Affine);
        Assert.Equal([2.0, 3, 4], v.Geometry.Spacing);
        // World position (LPS → RAS) of voxel (1, 0, 0): LPS (10, 22, 30) → RAS (−10, −22, 30).
        Assert.Equal((-10.0, -22.0, 30.0), v.Geometry.VoxelToWorld(1, 0, 0));
    }

    [Theory]
    [InlineData("BinaryDataByteOrderMSB")]
    [InlineData("ElementByteOrderMSB")]
    public void Read_MostSignificantByteFirst_SwapsValues(string key)
    {
        using var tmp = TestPaths.NewTempFolder();
        var header = $"NDims = 3\nDimSize = 2 1 1\n{key} = True\nElementType = MET_SHORT\nElementDataFile = LOCAL\n";
        var path = Write(tmp, "be.mha", header, [0x01, 0x02, 0xFF, 0xFE]);

        Assert.Equal([258, -2], VolumeIO.Read(path).Raw<short>().ToArray());
    }

    [Fact]
    public void Read_HeaderSizeMinusOne_TakesVoxelsFromEndOfRawFile()
    {
        using var tmp = TestPaths.NewTempFolder();
        File.WriteAllBytes(tmp.File("d.raw"), [9, 9, 9, 9, 9, 1, 2, 3, 4]);
        var path = Write(tmp, "d.mhd", "NDims = 2\nDimSize = 2 2\nHeaderSize = -1\nElementType = MET_UCHAR\nElementDataFile = d.raw\n", []);

        Assert.Equal([1, 2, 3, 4], VolumeIO.Read(path).Raw<byte>().ToArray());
    }

    [Fact]
    public void Read_PositiveHeaderSize_SkipsThatManyBytesOfRawFile()
    {
        using var tmp = TestPaths.NewTempFolder();
        File.WriteAllBytes(tmp.File("d.raw"), [9, 9, 9, 1, 2, 3, 4, 9]);
        var path = Write(tmp, "d.mhd", "NDims = 2\nDimSize = 2 2\nHeaderSize = 3\nElementType = MET_UCHAR\nElementDataFile = d.raw\n", []);

        Assert.Equal([1, 2, 3, 4], VolumeIO.Read(path).Raw<byte>().ToArray());
    }

    [Theory]
    [InlineData("MET_LONG", VoxelType.Int32)]
    [InlineData("MET_ULONG", VoxelType.UInt32)]
    [InlineData("MET_LONG_LONG", VoxelType.Int64)]
    [InlineData("MET_ULONG_LONG", VoxelType.UInt64)]
    [InlineData("MET_FLOAT_ARRAY", VoxelType.Float32)]
    public void Read_ElementTypeNames_MapToMetaIOSizes(string name, VoxelType expected)
    {
        using var tmp = TestPaths.NewTempFolder();
        var path = Write(tmp, "t.mha", $"NDims = 1\nDimSize = 2\nElementType = {name}\nElementDataFile = LOCAL\n", new byte[2 * expected.Size()]);

        Assert.Equal(expected, VolumeIO.Read(path).DataType);
    }

    [Fact]
    public void Read_CompressedLocalDataWithoutSize_InflatesToTheEnd()
    {
        using var tmp = TestPaths.NewTempFolder();
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal)) z.Write(new byte[] { 5, 6, 7, 8, 9, 10 });
        var path = Write(tmp, "z.mha", "NDims = 3\nDimSize = 3 2 1\nCompressedData = True\nElementType = MET_CHAR\nElementDataFile = LOCAL\n", ms.ToArray());

        var v = VolumeIO.Read(path, out var header);

        Assert.True(header.Compressed);
        Assert.Equal([5, 6, 7, 8, 9, 10], v.Raw<sbyte>().ToArray());
    }

    [Fact]
    public void Read_VectorPixels_BecomeChannels()
    {
        using var tmp = TestPaths.NewTempFolder();
        // Three voxels of two components, interleaved: (1, 10), (2, 20), (3, 30).
        var path = Write(tmp, "vec.mha", "NDims = 3\nDimSize = 3 1 1\nElementNumberOfChannels = 2\nElementType = MET_UCHAR_ARRAY\nElementDataFile = LOCAL\n", [1, 10, 2, 20, 3, 30]);

        var v = VolumeIO.Read(path);

        Assert.Equal([3, 1, 1, 2], v.Shape);
        Assert.Equal([1f, 2, 3], v.ChannelToFloatArray(0));
        Assert.Equal([10f, 20, 30], v.ChannelToFloatArray(1));
    }

    [Fact]
    public void Read_FourDimensions_KeepsFourthAsChannelsWithItsSpacing()
    {
        using var tmp = TestPaths.NewTempFolder();
        var path = Write(tmp, "t4.mha", "NDims = 4\nDimSize = 2 1 1 2\nElementSpacing = 1 1 1 2.5\nTransformMatrix = 1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n", [1, 2, 3, 4]);

        var v = VolumeIO.Read(path);

        Assert.Equal(2, v.Channels);
        Assert.Equal([1.0, 1, 1, 2.5], v.Zooms);
        Assert.Equal([3f, 4], v.ChannelToFloatArray(1));
    }

    [Fact]
    public void Read_IntensityFunction_ScalesValues()
    {
        using var tmp = TestPaths.NewTempFolder();
        var path = Write(tmp, "s.mha", "NDims = 1\nDimSize = 2\nElementToIntensityFunctionSlope = 2\nElementToIntensityFunctionOffset = -1\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n", [1, 5]);

        Assert.Equal([1f, 9], VolumeIO.Read(path).ToFloatArray());
    }

    [Fact]
    public void ReadHeader_LocalData_ReportsOffsetAfterHeaderLine()
    {
        using var tmp = TestPaths.NewTempFolder();
        const string header = "NDims = 1\r\nDimSize = 2\r\nElementType = MET_UCHAR\r\nElementDataFile = LOCAL\r\n";
        var path = Write(tmp, "crlf.mha", header, [7, 8]);

        var h = VolumeIO.ReadHeader(path);

        Assert.Equal(header.Length, h.DataOffset);
        Assert.Equal([7, 8], VolumeIO.Read(path).Raw<byte>().ToArray());
    }
}
