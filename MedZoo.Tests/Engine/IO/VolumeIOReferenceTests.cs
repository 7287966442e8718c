using MedZoo.Engine.IO;
using MedZoo.Engine.IO.Nifti;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.IO;

/// <summary>
/// Real files against an independent reader: every NIfTI/Analyze file of nibabel's Debian test
/// data, the mricron templates and the ITK examples (nibabel's values), the files
/// scripts/make_reference.py writes byte by byte (nibabel's values), and ITK's example
/// MetaImages (the script's numpy reader). No file is excluded: header-only files (a .hdr whose
/// .img Debian does not ship) are compared on their header and must fail to read with a clear
/// message, as they do in nibabel.
/// </summary>
public class VolumeIOReferenceTests
{
    public static TheoryData<string> DebianFiles() => NibabelReference.Rows("files");
    public static TheoryData<string> GeneratedFiles() => NibabelReference.Rows("generated");
    public static TheoryData<string> MetaImageFiles() => NibabelReference.Rows("metaimage");

    [SkippableTheory]
    [MemberData(nameof(DebianFiles))]
    public void Read_DebianTestData_AgreesWithNibabel(string row) => AssertAgrees(NibabelReference.Require(row));

    [SkippableTheory]
    [MemberData(nameof(GeneratedFiles))]
    public void Read_GeneratedEdgeCaseFiles_AgreesWithNibabel(string row) => AssertAgrees(NibabelReference.Require(row));

    [SkippableTheory]
    [MemberData(nameof(MetaImageFiles))]
    public void Read_ItkExampleMetaImages_AgreesWithReferenceReader(string row) => AssertAgrees(NibabelReference.Require(row));

    [SkippableTheory]
    [InlineData("usr/share/mricron/templates/AICHAmc.nii.gz")]
    [InlineData("usr/share/mricron/templates/HarvardOxford-cort-maxprob-thr0-1mm.nii.gz")]
    [InlineData("usr/share/mricron/templates/jhu189.nii.gz")]
    [InlineData("usr/share/mricron/templates/inia19-NeuroMaps.nii.gz")]
    public void Read_TemplateWhoseQformDisagreesWithSform_UsesSform(string relative)
    {
        var path = TestPaths.RequireDebianData(relative);
        var raw = RawHeader(path);
        Assert.True(raw.SformCode > 0 && raw.QformCode > 0);
        double[] sform = [.. raw.SrowX, .. raw.SrowY, .. raw.SrowZ, 0, 0, 0, 1];
        var qform = NiftiGeometry.QformAffine(raw.QuaternB, raw.QuaternC, raw.QuaternD, raw.QoffsetX, raw.QoffsetY, raw.QoffsetZ,
            [raw.PixDim[1], raw.PixDim[2], raw.PixDim[3]], raw.PixDim[0], 1)!;
        Assert.True(sform.Zip(qform).Max(p => Math.Abs(p.First - p.Second)) > 1, "the template's qform and sform should disagree");

        var header = VolumeIO.ReadHeader(path);

        Assert.Equal(sform, header.Geometry.Affine);
        Assert.Equal((WorldSpace)raw.SformCode, header.Geometry.Space);
    }

    [SkippableFact]
    public void Read_Ch2AndCh2Bet_ShareGridAndBrainMaskIsInsideHead()
    {
        var ch2 = VolumeIO.Read(TestPaths.RequireDebianData("usr/share/mricron/templates/ch2.nii.gz"));
        var bet = VolumeIO.Read(TestPaths.RequireDebianData("usr/share/mricron/templates/ch2bet.nii.gz"));

        Assert.Equal((181, 217, 181), ch2.Size);
        Assert.Equal(ch2.Geometry, bet.Geometry);
        var head = ch2.Raw<byte>();
        var brain = bet.Raw<byte>();
        var brainVoxels = 0;
        for (var i = 0; i < brain.Length; i++)
        {
            if (brain[i] == 0) continue;
            brainVoxels++;
            Assert.True(head[i] > 0, $"brain voxel {i} lies outside the head");
        }
        // About 1.2-1.8 litres of brain at 1 mm³ per voxel.
        Assert.InRange(brainVoxels, 1_000_000, 2_000_000);
    }

    [SkippableFact]
    public void Read_ComplexMetaImage_ChannelsGiveItksMagnitudeImage()
    {
        const string dir = "usr/share/doc/insighttoolkit5-examples/examples/Data/";
        var complex = VolumeIO.Read(TestPaths.RequireDebianData(dir + "itkBrainSliceComplex.mha"));
        var magnitude = VolumeIO.Read(TestPaths.RequireDebianData(dir + "itkBrainSliceComplexMagnitude.mha"));

        Assert.Equal([181, 217, 1, 2], complex.Shape);
        var re = complex.ChannelToFloatArray(0);
        var im = complex.ChannelToFloatArray(1);
        var mag = magnitude.ToFloatArray();
        for (var i = 0; i < mag.Length; i++)
            Assert.Equal(mag[i], MathF.Sqrt(re[i] * re[i] + im[i] * im[i]), 1e-3f);
    }

    [SkippableFact]
    public void Read_SameSliceAsRawAndAsZlibData_HasSameVoxels()
    {
        const string dir = "usr/share/doc/insighttoolkit5-examples/examples/Data/";
        var raw = VolumeIO.Read(TestPaths.RequireDebianData(dir + "BrainProtonDensitySliceBorder20.mhd"));
        var zlib = VolumeIO.Read(TestPaths.RequireDebianData(dir + "BrainProtonDensitySliceBorder20DirectionPlus30.mhd"), out var header);

        Assert.True(header.Compressed);
        Assert.Equal(raw.RawBytes.ToArray(), zlib.RawBytes.ToArray());
        Assert.NotEqual(raw.Geometry, zlib.Geometry);
    }

    private static NiftiHeader RawHeader(string path)
    {
        using var file = File.OpenRead(path);
        using var gz = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress);
        var block = new byte[NiftiHeader.Nifti1Size];
        gz.ReadExactly(block);
        return NiftiHeader.Parse(block, 1, bigEndian: false);
    }

    private static void AssertAgrees(ReferenceEntry e)
    {
        Skip.If(e.Error is not null, $"the reference reader cannot read {e.Key}: {e.Error}");
        var header = VolumeIO.ReadHeader(e.FullPath);
        AssertHeader(e, header);
        if (e.DataError is not null)
        {
            // nibabel reads the header but not the voxels (Debian ships the .hdr without its .img).
            var ex = Assert.Throws<VolumeFormatException>(() => VolumeIO.Read(e.FullPath));
            Assert.Contains(".img", ex.Message);
            Assert.Contains("not found", ex.Message);
            return;
        }
        var volume = VolumeIO.Read(e.FullPath, out var readHeader);
        AssertHeader(e, readHeader);
        Assert.Equal(e.Shape, volume.Shape.Select(d => (long)d));
        Assert.Equal(e.Spacing, volume.Zooms.ToArray());
        Assert.Equal(e.Count, volume.Count);
        var stats = volume.ComputeStatistics();
        Assert.Equal(e.NanCount, stats.NanCount);
        if (e.Min is null)
        {
            Assert.Equal(0, stats.FiniteCount);
            return;
        }
        AssertClose(e.Min!.Value, stats.Min, "min");
        AssertClose(e.Max!.Value, stats.Max, "max");
        AssertClose(e.Mean!.Value, stats.Mean, "mean");
        AssertClose(e.Sum!.Value, stats.Sum, "sum");
    }

    private static void AssertHeader(ReferenceEntry e, VolumeHeader h)
    {
        Assert.Equal(e.Format, h.Format.Name());
        Assert.Equal(e.DataType, h.DataType.Name());
        Assert.Equal(e.Shape, h.Shape);
        Assert.Equal(e.Spacing.Length, h.Zooms.Count);
        for (var i = 0; i < e.Spacing.Length; i++)
            Assert.True(Math.Abs(e.Spacing[i] - h.Zooms[i]) <= 1e-6 * Math.Max(1, Math.Abs(e.Spacing[i])),
                $"zoom {i}: expected {e.Spacing[i]}, got {h.Zooms[i]}");
        var affine = h.Geometry.Affine;
        for (var i = 0; i < 16; i++)
            Assert.True(Math.Abs(e.Affine[i] - affine[i]) <= 1e-4,
                $"affine[{i / 4},{i % 4}]: expected {e.Affine[i]}, got {affine[i]} (affine {string.Join(", ", affine)})");
    }

    private static void AssertClose(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected}, got {actual}");
}
