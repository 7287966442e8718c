using MedZoo.Engine.IO;
using MedZoo.Engine.IO.Nifti;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.IO;

public class VolumeIOTests
{
    /// <summary>One file variant of every format the writers produce.</summary>
    public enum Variant
    {
        Nii, NiiGz, HdrPair, HdrGzPair, Nifti2Nii, Nifti2NiiGz, Nifti2Pair,
        Mha, MhaZlib, Mhd, MhdZlib, MhaVector,
    }

    private static (string Name, VolumeWriteOptions Options, VolumeFileFormat Format, bool Compressed) Describe(Variant v, bool bigEndian)
    {
        var o = new VolumeWriteOptions { BigEndian = bigEndian };
        return v switch
        {
            Variant.Nii => ("v.nii", o, VolumeFileFormat.Nifti1, false),
            Variant.NiiGz => ("v.nii.gz", o, VolumeFileFormat.Nifti1, true),
            Variant.HdrPair => ("v.hdr", o, VolumeFileFormat.Nifti1, false),
            Variant.HdrGzPair => ("v.hdr.gz", o, VolumeFileFormat.Nifti1, true),
            Variant.Nifti2Nii => ("v.nii", o with { NiftiVersion = 2 }, VolumeFileFormat.Nifti2, false),
            Variant.Nifti2NiiGz => ("v.nii.gz", o with { NiftiVersion = 2 }, VolumeFileFormat.Nifti2, true),
            Variant.Nifti2Pair => ("v.img", o with { NiftiVersion = 2 }, VolumeFileFormat.Nifti2, false),
            Variant.Mha => ("v.mha", o, VolumeFileFormat.MetaImage, false),
            Variant.MhaZlib => ("v.mha", o with { Compress = true }, VolumeFileFormat.MetaImage, true),
            Variant.Mhd => ("v.mhd", o, VolumeFileFormat.MetaImage, false),
            Variant.MhdZlib => ("v.mhd", o with { Compress = true }, VolumeFileFormat.MetaImage, true),
            Variant.MhaVector => ("v.mha", o with { MetaImageVectorChannels = true, Compress = true }, VolumeFileFormat.MetaImage, true),
            _ => throw new ArgumentOutOfRangeException(nameof(v)),
        };
    }

    public static TheoryData<VoxelType, bool, Variant> AllCombinations()
    {
        var data = new TheoryData<VoxelType, bool, Variant>();
        foreach (var type in Enum.GetValues<VoxelType>())
            foreach (var bigEndian in new[] { false, true })
                foreach (var variant in Enum.GetValues<Variant>())
                    data.Add(type, bigEndian, variant);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllCombinations))]
    public void Write_ThenRead_ReturnsSameVoxelsTypeScalingAndGeometry(VoxelType type, bool bigEndian, Variant variant)
    {
        using var tmp = TestPaths.NewTempFolder();
        var (name, options, format, compressed) = Describe(variant, bigEndian);
        // Integer volumes alternate between scaled and raw; scaling values are float32-exact.
        var scaled = !type.IsFloat() && (int)type % 2 == 0;
        var volume = TestVolumes.Random(type, [5, 4, 3, 2], seed: (int)type * 31 + (int)variant,
            slope: scaled ? 0.5 : 1, intercept: scaled ? -3 : 0, zooms: [1.5, 1.25, 2.5, 0.75]);
        var path = tmp.File(name);

        VolumeIO.Write(volume, path, options);
        var back = VolumeIO.Read(path, out var header);

        Assert.Equal(format, header.Format);
        Assert.Equal(bigEndian, header.BigEndian);
        Assert.Equal(compressed, header.Compressed);
        Assert.Equal(type, back.DataType);
        Assert.Equal(volume.Shape, back.Shape);
        // Vector components have no spacing in MetaImage: the fourth zoom comes back as 1.
        Assert.Equal(variant == Variant.MhaVector ? [1.5, 1.25, 2.5, 1] : volume.Zooms, back.Zooms);
        Assert.Equal(volume.RawBytes.ToArray(), back.RawBytes.ToArray());
        Assert.Equal(volume.Slope, back.Slope);
        Assert.Equal(volume.Intercept, back.Intercept);
        Assert.Equal(volume.Geometry.Affine, back.Geometry.Affine);
        Assert.Equal(volume.Geometry.Spacing, back.Geometry.Spacing);
        if (format != VolumeFileFormat.MetaImage) Assert.Equal(WorldSpace.Mni152, back.Geometry.Space);
        Assert.Empty(Directory.GetFiles(tmp.Path, "*.tmp"));
    }

    [Theory]
    [InlineData("p.nii")]
    [InlineData("p.nii.gz")]
    [InlineData("p.hdr")]
    [InlineData("p.mha")]
    [InlineData("p.mhd")]
    public void Write_PredictionLikeInput_KeepsInputGeometry(string name)
    {
        using var tmp = TestPaths.NewTempFolder();
        var input = TestVolumes.Random(VoxelType.Float32, [6, 5, 4], seed: 7);
        var labels = new byte[input.VoxelsPerChannel];
        for (var i = 0; i < labels.Length; i++) labels[i] = (byte)(i % 4);
        var prediction = Volume.Like<byte>(input, labels);

        VolumeIO.Write(prediction, tmp.File(name));
        var back = VolumeIO.Read(tmp.File(name));

        Assert.Equal(input.Geometry, back.Geometry);
        Assert.Equal(labels, back.Raw<byte>().ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Write_RotatedAffineFromQform_ReadsBackBitForBit(int version)
    {
        // An affine as a qform produces it (float32 quaternion, float32 offsets): NIfTI-1 keeps it
        // exactly through the qform even though float32 cannot hold the rotated sform.
        var a = NiftiGeometry.QformAffine((float)0.1, (float)-0.2, (float)0.3, (float)-90.3, (float)110.7, (float)-60.1,
            [(float)0.9, (float)0.9, (float)1.1], -1, 1)!;
        var geometry = new VolumeGeometry(a, [(float)0.9, (float)0.9, (float)1.1], WorldSpace.Scanner);
        var volume = TestVolumes.Random(VoxelType.Int16, [4, 4, 4], seed: 3, geometry: geometry);
        using var tmp = TestPaths.NewTempFolder();

        VolumeIO.Write(volume, tmp.File("q.nii"), new VolumeWriteOptions { NiftiVersion = version });
        var back = VolumeIO.Read(tmp.File("q.nii"));

        Assert.Equal(a, back.Geometry.Affine);
        Assert.Equal(WorldSpace.Scanner, back.Geometry.Space);
    }

    [Fact]
    public void Write_ArbitraryDoubleAffine_Nifti2ExactAndNifti1WithinFloat32()
    {
        double[] a = [0.7071067811865476, -0.7071067811865475, 0.1, -91.123456789, 0.7071067811865475, 0.7071067811865476, 0, 12.3456789, 0, 0.05, 1.3333333333, 7.77777777, 0, 0, 0, 1];
        var volume = TestVolumes.Random(VoxelType.UInt8, [3, 3, 3], seed: 1, geometry: new VolumeGeometry(a));
        using var tmp = TestPaths.NewTempFolder();

        VolumeIO.Write(volume, tmp.File("a1.nii"));
        VolumeIO.Write(volume, tmp.File("a2.nii"), new VolumeWriteOptions { NiftiVersion = 2 });

        Assert.Equal(a, VolumeIO.Read(tmp.File("a2.nii")).Geometry.Affine);
        var a1 = VolumeIO.Read(tmp.File("a1.nii")).Geometry.Affine;
        for (var i = 0; i < 16; i++) Assert.Equal(a[i], a1[i], Math.Abs(a[i]) * 1e-7);
    }

    [Fact]
    public void BuildHeader_ShearedAffine_WritesSformOnly()
    {
        double[] a = [2, 0.5, 0, 1, 0, 2, 0, 2, 0, 0, 2, 3, 0, 0, 0, 1];
        var volume = TestVolumes.Random(VoxelType.UInt8, [2, 2, 2], seed: 1, geometry: new VolumeGeometry(a, [2, 2, 2]));

        var h = NiftiWriter.BuildHeader(volume, 1, pair: false, bigEndian: false);

        Assert.Equal(0, h.QformCode);
        Assert.Equal((int)WorldSpace.Aligned, h.SformCode);
    }

    [Fact]
    public void BuildHeader_FlippedAxes_WritesQformWithNegativeQfacThatReproducesTheAffine()
    {
        var volume = TestVolumes.Random(VoxelType.UInt8, [2, 2, 2], seed: 1, geometry: new VolumeGeometry([-2, 0, 0, 10, 0, 3, 0, -5, 0, 0, 4, 6, 0, 0, 0, 1]));

        var h = NiftiWriter.BuildHeader(volume, 1, pair: false, bigEndian: false);
        var q = NiftiGeometry.QformAffine(h.QuaternB, h.QuaternC, h.QuaternD, h.QoffsetX, h.QoffsetY, h.QoffsetZ, [2, 3, 4], h.PixDim[0], 1);

        Assert.Equal(-1, h.PixDim[0]);
        Assert.Equal(volume.Geometry.Affine, q);
    }

    [Fact]
    public void Write_DimensionAboveInt16_WritesNifti2Automatically()
    {
        var volume = Volume.FromArray<byte>(new byte[40000], [40000, 1, 1]);
        using var tmp = TestPaths.NewTempFolder();

        VolumeIO.Write(volume, tmp.File("long.nii.gz"));

        Assert.Equal(VolumeFileFormat.Nifti2, VolumeIO.ReadHeader(tmp.File("long.nii.gz")).Format);
        var e = Assert.Throws<ArgumentException>(() => VolumeIO.Write(volume, tmp.File("long1.nii"), new VolumeWriteOptions { NiftiVersion = 1 }));
        Assert.Contains("NIfTI-1", e.Message);
    }

    [Theory]
    [InlineData(new[] { 7, 6 })]
    [InlineData(new[] { 3, 2, 2, 2, 3 })]
    [InlineData(new[] { 2, 2, 2, 1, 1, 2, 2 })]
    public void Write_2DAndHigherDimensionalNifti_KeepsShapeAndZooms(int[] shape)
    {
        var zooms = shape.Select((_, i) => 0.5 + i).ToArray();
        var volume = TestVolumes.Random(VoxelType.Float32, shape, seed: 5, geometry: VolumeGeometry.FromSpacing(0.5, 1.5, shape.Length > 2 ? 2.5 : 1), zooms: zooms);
        using var tmp = TestPaths.NewTempFolder();

        VolumeIO.Write(volume, tmp.File("d.nii"));
        var back = VolumeIO.Read(tmp.File("d.nii"));

        Assert.Equal(shape, back.Shape);
        Assert.Equal(zooms.Take(Math.Min(3, shape.Length)), back.Zooms.Take(Math.Min(3, shape.Length)));
        Assert.Equal(zooms.Skip(3), back.Zooms.Skip(3));
        Assert.Equal(volume.RawBytes.ToArray(), back.RawBytes.ToArray());
    }

    [Fact]
    public void Write_2DMetaImage_PadsToThreeDimensions()
    {
        var volume = TestVolumes.Random(VoxelType.UInt8, [7, 6], seed: 5, geometry: VolumeGeometry.FromSpacing(0.5, 1.5, 1, 3, 4, 5));
        using var tmp = TestPaths.NewTempFolder();

        VolumeIO.Write(volume, tmp.File("d.mha"));
        var back = VolumeIO.Read(tmp.File("d.mha"));

        Assert.Equal([7, 6, 1], back.Shape);
        Assert.Equal(volume.Geometry, back.Geometry);
        Assert.Equal(volume.RawBytes.ToArray(), back.RawBytes.ToArray());
    }

    [Fact]
    public void Write_RotatedAffineToMetaImage_KeepsAffineWithinRounding()
    {
        var a = NiftiGeometry.QformAffine(0.1, -0.2, 0.3, -90.3, 110.7, -60.1, [0.9, 0.8, 1.1], 1, 2)!;
        var volume = TestVolumes.Random(VoxelType.Int16, [4, 3, 2], seed: 3, geometry: new VolumeGeometry(a, [0.9, 0.8, 1.1]));
        using var tmp = TestPaths.NewTempFolder();

        VolumeIO.Write(volume, tmp.File("r.mhd"));
        var back = VolumeIO.Read(tmp.File("r.mhd"));

        Assert.True(volume.Geometry.ApproximatelyEquals(back.Geometry, 1e-12));
        Assert.Equal(volume.Geometry.Spacing, back.Geometry.Spacing);
    }

    [Fact]
    public void Write_MetaImage_ConvertsRasToLpsHeader()
    {
        var volume = Volume.FromArray<short>(new short[24], [4, 3, 2], VolumeGeometry.FromSpacing(2, 3, 4, -10, -20, 30));
        using var tmp = TestPaths.NewTempFolder();

        VolumeIO.Write(volume, tmp.File("lps.mhd"));
        var text = File.ReadAllText(tmp.File("lps.mhd"));

        Assert.Contains("Offset = 10 20 30\n", text);
        Assert.Contains("TransformMatrix = -1 0 0 0 -1 0 0 0 1\n", text);
        Assert.Contains("ElementSpacing = 2 3 4\n", text);
        Assert.Contains("ElementDataFile = lps.raw\n", text);
        Assert.Equal(24 * 2, new FileInfo(tmp.File("lps.raw")).Length);
    }

    [Theory]
    [InlineData("x.nii", "x.dat")]
    [InlineData("x.nii.gz", "x.bin")]
    [InlineData("x.mha", "x.meta")]
    public void Read_UnknownExtension_RecognisesFormatByContent(string written, string renamed)
    {
        using var tmp = TestPaths.NewTempFolder();
        var volume = TestVolumes.Random(VoxelType.Int16, [3, 3, 3], seed: 9);
        VolumeIO.Write(volume, tmp.File(written));
        File.Move(tmp.File(written), tmp.File(renamed));

        var back = VolumeIO.Read(tmp.File(renamed));

        Assert.Equal(volume.RawBytes.ToArray(), back.RawBytes.ToArray());
    }

    [Theory]
    [InlineData("pair.hdr", "pair.img")]
    [InlineData("PAIR.HDR", "PAIR.IMG")]
    [InlineData("pair.hdr.gz", "pair.img.gz")]
    public void Read_PairByImageName_FindsHeader(string header, string image)
    {
        using var tmp = TestPaths.NewTempFolder();
        var volume = TestVolumes.Random(VoxelType.UInt16, [3, 4, 5], seed: 2);
        VolumeIO.Write(volume, tmp.File(header));

        Assert.True(File.Exists(tmp.File(image)));
        Assert.Equal(volume.RawBytes.ToArray(), VolumeIO.Read(tmp.File(image)).RawBytes.ToArray());
    }

    [Fact]
    public void ReadHeader_PairWithoutImage_DescribesVolume()
    {
        using var tmp = TestPaths.NewTempFolder();
        VolumeIO.Write(TestVolumes.Random(VoxelType.Int32, [3, 4, 5], seed: 2), tmp.File("h.hdr"));
        File.Delete(tmp.File("h.img"));

        var header = VolumeIO.ReadHeader(tmp.File("h.hdr"));

        Assert.Equal([3L, 4, 5], header.Shape);
        Assert.Equal(VoxelType.Int32, header.DataType);
    }

    [Fact]
    public void Write_ExistingTarget_IsReplacedAndNoTemporaryFileRemains()
    {
        using var tmp = TestPaths.NewTempFolder();
        VolumeIO.Write(TestVolumes.Random(VoxelType.UInt8, [2, 2, 2], seed: 1), tmp.File("r.nii.gz"));
        var second = TestVolumes.Random(VoxelType.Float64, [3, 3, 3], seed: 2);

        VolumeIO.Write(second, tmp.File("r.nii.gz"));

        Assert.Equal(VoxelType.Float64, VolumeIO.Read(tmp.File("r.nii.gz")).DataType);
        Assert.Equal(["r.nii.gz"], Directory.GetFiles(tmp.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("v.png")]
    [InlineData("v.mha.gz")]
    public void Write_UnsupportedExtension_ThrowsNamingIt(string name)
    {
        using var tmp = TestPaths.NewTempFolder();
        var e = Assert.Throws<ArgumentException>(() => VolumeIO.Write(Volume.FromArray<byte>([1], [1, 1, 1]), tmp.File(name)));
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Write_InvalidOptions_ThrowsNamingOption()
    {
        using var tmp = TestPaths.NewTempFolder();
        var e = Assert.Throws<ArgumentException>(() => VolumeIO.Write(Volume.FromArray<byte>([1], [1, 1, 1]), tmp.File("o.nii"), new VolumeWriteOptions { NiftiVersion = 3 }));
        Assert.Contains("NiftiVersion", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(double.NaN)]
    public void Read_ZeroOrNaNSlope_MeansNoScalingEvenWithIntercept(double slope)
    {
        using var tmp = TestPaths.NewTempFolder();
        var path = tmp.File("s.nii");
        VolumeIO.Write(Volume.FromArray<short>([1, 2, 3, 4], [2, 2, 1]), path);
        PatchFloat(path, 112, (float)slope);
        PatchFloat(path, 116, 100f);

        var v = VolumeIO.Read(path);

        Assert.False(v.IsScaled);
        Assert.Equal([1f, 2, 3, 4], v.ToFloatArray());
    }

    [Fact]
    public void Read_VoxOffsetZeroInSingleFile_ReadsDataAfterHeader()
    {
        using var tmp = TestPaths.NewTempFolder();
        var path = tmp.File("z.nii");
        VolumeIO.Write(Volume.FromArray<short>([5, 6, 7, 8], [2, 2, 1]), path);
        PatchFloat(path, 108, 0);

        Assert.Equal([5f, 6, 7, 8], VolumeIO.Read(path).ToFloatArray());
    }

    [Fact]
    public void Read_Ch2Gz_ReadsQuicklyInOnePass()
    {
        var path = TestPaths.RequireDebianData("usr/share/mricron/templates/ch2.nii.gz");
        var before = GC.GetAllocatedBytesForCurrentThread();

        var v = VolumeIO.Read(path);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // One buffer of 181·217·181 bytes plus stream buffers: the data is inflated once, straight into the volume.
        Assert.InRange(allocated, v.RawBytes.Length, v.RawBytes.Length + (2 << 20));
    }

    [Fact]
    public void Read_FreeSurferLongVector_TakesLengthFromGlmin()
    {
        // FreeSurfer stores vectors longer than int16 as dims (-1, 1, 1) with the length in glmin.
        using var tmp = TestPaths.NewTempFolder();
        var path = tmp.File("fs.nii");
        VolumeIO.Write(Volume.FromArray<byte>(new byte[40000], [40000, 1, 1]), path, new VolumeWriteOptions { NiftiVersion = 2 });
        var v2 = File.ReadAllBytes(path);
        var h = NiftiWriter.BuildHeader(Volume.FromArray<byte>([0], [1, 1, 1]), 1, pair: false, bigEndian: false).ToBytes();
        BitConverter.TryWriteBytes(h.AsSpan(42), (short)-1);
        BitConverter.TryWriteBytes(h.AsSpan(144), 40000);
        File.WriteAllBytes(path, [.. h, 0, 0, 0, 0, .. v2.AsSpan(544)]);

        var v = VolumeIO.Read(path);

        Assert.Equal([40000, 1, 1], v.Shape);
    }

    [Fact]
    public void Write_MetaImageWithUnknownTimeStep_WritesSpacingOne()
    {
        using var tmp = TestPaths.NewTempFolder();
        var volume = TestVolumes.Random(VoxelType.UInt8, [2, 2, 2, 3], seed: 4, zooms: [1.5, 1.25, 2.5, 0]);

        VolumeIO.Write(volume, tmp.File("t.mha"));

        Assert.Equal([1.5, 1.25, 2.5, 1], VolumeIO.Read(tmp.File("t.mha")).Zooms);
    }

    internal static void PatchFloat(string path, int offset, float value)
    {
        var bytes = File.ReadAllBytes(path);
        BitConverter.TryWriteBytes(bytes.AsSpan(offset), value);
        File.WriteAllBytes(path, bytes);
    }
}
