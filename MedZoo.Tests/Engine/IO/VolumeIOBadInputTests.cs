using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using MedZoo.Engine.IO;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.IO;

/// <summary>
/// Corrupt and inconsistent files: each must fail with a <see cref="VolumeFormatException"/> whose
/// message starts with the file name and says what is wrong, before allocating what a lying header
/// claims.
/// </summary>
public class VolumeIOBadInputTests
{
    /// <summary>A valid little-endian NIfTI-1 .nii: int16, 4×3×2, 352-byte header, 48 bytes of data.</summary>
    internal static byte[] ValidNifti1(int version = 1)
    {
        using var tmp = TestPaths.NewTempFolder();
        var volume = TestVolumes.Random(VoxelType.Int16, [4, 3, 2], seed: 11);
        VolumeIO.Write(volume, tmp.File("base.nii"), new VolumeWriteOptions { NiftiVersion = version });
        return File.ReadAllBytes(tmp.File("base.nii"));
    }

    private static byte[] I16(byte[] b, int offset, short v) { BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(offset), v); return b; }
    private static byte[] I32(byte[] b, int offset, int v) { BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(offset), v); return b; }
    private static byte[] I64(byte[] b, int offset, long v) { BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(offset), v); return b; }
    private static byte[] F32(byte[] b, int offset, float v) { BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(offset), v); return b; }

    /// <summary>NIfTI-1 corruptions: how to damage the valid file, and a fragment the message must contain.</summary>
    private static readonly Dictionary<string, (Func<byte[], byte[]> Damage, string Expected)> Nifti1Cases = new()
    {
        ["empty file"] = (_ => [], "too short"),
        ["truncated header"] = (b => b[..200], "inside the 348-byte header"),
        ["truncated data"] = (b => b[..^10], "(48 bytes from byte 352) but the file has only 390 bytes"),
        ["wrong sizeof_hdr"] = (b => I32(b, 0, 1234), "sizeof_hdr is 1234"),
        ["wrong magic"] = (b => { Encoding.ASCII.GetBytes("abc\0").CopyTo(b, 344); return b; }, "magic is \"abc\""),
        ["dim[0] zero"] = (b => I16(b, 40, 0), "dim[0]=0 must be between 1 and 7"),
        ["dim[0] eight"] = (b => I16(b, 40, 8), "dim[0]=8 must be between 1 and 7"),
        ["negative dim"] = (b => I16(b, 42, -3), "dim[1]=-3 must be positive"),
        ["zero dim"] = (b => I16(b, 44, 0), "dim[2]=0 must be positive"),
        ["dims claim terabytes"] = (b => { I16(b, 40, 4); for (var i = 1; i <= 4; i++) I16(b, 40 + 2 * i, 32767); return b; }, "but the file has only 400 bytes"),
        ["dims overflow"] = (b => { I16(b, 40, 7); I16(b, 70, 64); for (var i = 1; i <= 7; i++) I16(b, 40 + 2 * i, 32767); return b; }, "more bytes than any file can hold"),
        ["dims exceed file"] = (b => I16(b, 42, 5), "(60 bytes from byte 352) but the file has only 400 bytes"),
        ["vox_offset past end"] = (b => F32(b, 108, 100000), "from byte 100000) but the file has only 400 bytes"),
        ["vox_offset inside header"] = (b => F32(b, 108, 100), "vox_offset=100 lies inside the 348-byte header"),
        ["vox_offset negative"] = (b => F32(b, 108, -16), "vox_offset=-16 must be a non-negative byte offset"),
        ["vox_offset NaN"] = (b => F32(b, 108, float.NaN), "vox_offset=NaN"),
        ["unknown datatype"] = (b => I16(b, 70, 3), "unknown datatype 3"),
        ["complex datatype"] = (b => I16(b, 70, 32), "unsupported datatype 32 (complex64)"),
        ["RGB datatype"] = (b => I16(b, 70, 128), "unsupported datatype 128 (RGB24)"),
        ["binary datatype"] = (b => I16(b, 70, 1), "unsupported datatype 1 (binary"),
        ["NaN pixdim"] = (b => F32(b, 80, float.NaN), "pixdim[1]=NaN is not a finite voxel size"),
        ["invalid quaternion"] = (b => { I16(b, 254, 0); I16(b, 252, 1); F32(b, 256, 0.9f); F32(b, 260, 0.9f); F32(b, 264, 0.9f); return b; }, "has b²+c²+d² > 1"),
        ["infinite sform"] = (b => F32(b, 280, float.PositiveInfinity), "sform (sform_code=4) contains a non-finite value"),
        ["infinite intercept"] = (b => { F32(b, 112, 2); F32(b, 116, float.PositiveInfinity); return b; }, "scl_inter=Infinity is not finite while scl_slope=2"),
        ["FreeSurfer vector without length"] = (b => { I16(b, 42, -1); I16(b, 44, 1); I16(b, 46, 1); I32(b, 144, 0); return b; }, "glmin=0"),
    };

    public static TheoryData<string> Nifti1CaseNames() => new(Nifti1Cases.Keys);

    [Theory]
    [MemberData(nameof(Nifti1CaseNames))]
    public void Read_DamagedNifti1_ThrowsNamingFileAndProblem(string name)
    {
        var (damage, expected) = Nifti1Cases[name];
        using var tmp = TestPaths.NewTempFolder();
        var path = tmp.File("bad.nii");
        File.WriteAllBytes(path, damage(ValidNifti1()));

        AssertFails(path, expected);
    }

    [Theory]
    [InlineData("dims exceed file")]
    [InlineData("dims overflow")]
    [InlineData("negative dim")]
    public void ReadHeader_DamagedNifti1_RejectsWhatReadRejects(string name)
    {
        var (damage, expected) = Nifti1Cases[name];
        using var tmp = TestPaths.NewTempFolder();
        File.WriteAllBytes(tmp.File("h.nii"), damage(ValidNifti1()));

        var e = Assert.Throws<VolumeFormatException>(() => VolumeIO.ReadHeader(tmp.File("h.nii")));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("dims exceed file")]
    [InlineData("dims claim terabytes")]
    [InlineData("truncated data")]
    [InlineData("unknown datatype")]
    [InlineData("negative dim")]
    public void Read_DamagedNifti1Gzipped_ThrowsNamingFileAndProblem(string name)
    {
        var (damage, _) = Nifti1Cases[name];
        using var tmp = TestPaths.NewTempFolder();
        var path = tmp.File("bad.nii.gz");
        File.WriteAllBytes(path, Gzip(damage(ValidNifti1())));

        var e = AssertFails(path, "");
        Assert.DoesNotContain("\n", e.Message);
    }

    [Theory]
    [InlineData("corrupt EOL", "bytes 8-11 are 0D 0D 0D 0D")]
    [InlineData("huge dim", "but the file has only 592 bytes")]
    [InlineData("truncated header", "while reading the 540-byte NIfTI-2 header")]
    [InlineData("negative vox_offset", "vox_offset=-1 must be a non-negative byte offset")]
    public void Read_DamagedNifti2_ThrowsNamingFileAndProblem(string name, string expected)
    {
        var b = ValidNifti1(version: 2);
        b = name switch
        {
            "corrupt EOL" => Fill(b, 8, 4, 0x0D),
            "huge dim" => I64(b, 24, 1L << 40),
            "truncated header" => b[..400],
            "negative vox_offset" => I64(b, 168, -1),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        using var tmp = TestPaths.NewTempFolder();
        File.WriteAllBytes(tmp.File("bad2.nii"), b);

        AssertFails(tmp.File("bad2.nii"), expected);
    }

    [Fact]
    public void Read_CorruptGzip_ThrowsNamingGzip()
    {
        using var tmp = TestPaths.NewTempFolder();
        // A gzip member header followed by a deflate block of the reserved type 3.
        File.WriteAllBytes(tmp.File("c.nii.gz"), [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, .. Enumerable.Repeat((byte)0xff, 40)]);

        AssertFails(tmp.File("c.nii.gz"), "gzip data is corrupt");
    }

    [Fact]
    public void Read_TruncatedGzip_Throws()
    {
        using var tmp = TestPaths.NewTempFolder();
        var gz = Gzip(ValidNifti1());
        File.WriteAllBytes(tmp.File("t.nii.gz"), gz[..(gz.Length / 2)]);

        AssertFails(tmp.File("t.nii.gz"), "");
    }

    [Fact]
    public void Read_GzipClaimingMoreThanDeflateCanHold_ThrowsBeforeAllocating()
    {
        var b = ValidNifti1();
        for (var i = 1; i <= 3; i++) I16(b, 40 + 2 * i, 1000); // 1000³ int16 = 2 GB from a few hundred bytes
        using var tmp = TestPaths.NewTempFolder();
        File.WriteAllBytes(tmp.File("big.nii.gz"), Gzip(b));
        var before = GC.GetAllocatedBytesForCurrentThread();

        AssertFails(tmp.File("big.nii.gz"), "bytes of gzip data can hold at most");

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20);
    }

    [Fact]
    public void Read_GzipClaimingPlausibleSizeButEndingEarly_AllocatesOnlyWhatArrives()
    {
        // 1 MiB of incompressible data: deflate could hold up to ~1 GB, the header claims 64 MiB.
        var data = new byte[1 << 20];
        new Random(3).NextBytes(data);
        var b = ValidNifti1();
        I16(b, 70, 2); // uint8
        I16(b, 40, 3);
        I16(b, 42, 4096); I16(b, 44, 4096); I16(b, 46, 4);
        using var tmp = TestPaths.NewTempFolder();
        File.WriteAllBytes(tmp.File("short.nii.gz"), Gzip([.. b[..352], .. data]));
        var before = GC.GetAllocatedBytesForCurrentThread();

        AssertFails(tmp.File("short.nii.gz"), "ends after 1048576 of 67108864 bytes");

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 24 << 20, "a lying header must not make the reader allocate its claim");
    }

    [Fact]
    public void Read_PairWithoutImage_NamesMissingImage()
    {
        using var tmp = TestPaths.NewTempFolder();
        VolumeIO.Write(TestVolumes.Random(VoxelType.UInt8, [2, 2, 2], seed: 1), tmp.File("lonely.hdr"));
        File.Delete(tmp.File("lonely.img"));

        var e = AssertFails(tmp.File("lonely.hdr"), "image file lonely.img not found");
        Assert.Equal(tmp.File("lonely.hdr"), e.FilePath);
    }

    [Fact]
    public void Read_ImageWithoutHeader_NamesMissingHeader()
    {
        using var tmp = TestPaths.NewTempFolder();
        File.WriteAllBytes(tmp.File("orphan.img"), new byte[8]);

        AssertFails(tmp.File("orphan.img"), "header file orphan.hdr not found");
    }

    [Fact]
    public void Read_MissingFile_ThrowsFileNotFoundNamingIt()
    {
        using var tmp = TestPaths.NewTempFolder();
        var e = Assert.Throws<FileNotFoundException>(() => VolumeIO.Read(tmp.File("absent.nii.gz")));
        Assert.StartsWith("absent.nii.gz: no such file", e.Message);
    }

    [Theory]
    [InlineData("negative dim", "a.hdr", "Analyze header dim[1]=-3 must be positive")]
    [InlineData("short image", "a.img", "header a.hdr declares 4×3×2 int16 voxels (48 bytes from byte 0) but the file has only 10 bytes")]
    [InlineData("NIfTI-2 size without magic", "a.hdr", "sizeof_hdr is 540 (NIfTI-2) but magic is")]
    [InlineData("big-endian image too short", "a.img", "but the file has only 10 bytes")]
    public void Read_DamagedAnalyzePair_ThrowsNamingFileAndProblem(string name, string blamed, string expected)
    {
        using var tmp = TestPaths.NewTempFolder();
        var hdr = AnalyzeHeader(bigEndian: name.StartsWith("big", StringComparison.Ordinal));
        var img = new byte[4 * 3 * 2 * 2];
        switch (name)
        {
            case "negative dim": I16(hdr, 42, -3); break;
            case "short image":
            case "big-endian image too short": img = new byte[10]; break;
            case "NIfTI-2 size without magic": hdr = [.. BitConverter.GetBytes(540), .. new byte[536]]; break;
        }
        File.WriteAllBytes(tmp.File("a.hdr"), hdr);
        File.WriteAllBytes(tmp.File("a.img"), img);

        var e = AssertFails(tmp.File("a.hdr"), expected, blamed);
        Assert.Equal(tmp.File(blamed), e.FilePath);
    }

    /// <summary>An Analyze 7.5 header for int16 4×3×2 (no NIfTI magic).</summary>
    private static byte[] AnalyzeHeader(bool bigEndian)
    {
        var h = new byte[348];
        void W16(int o, short v) { if (bigEndian) BinaryPrimitives.WriteInt16BigEndian(h.AsSpan(o), v); else BinaryPrimitives.WriteInt16LittleEndian(h.AsSpan(o), v); }
        if (bigEndian) BinaryPrimitives.WriteInt32BigEndian(h, 348); else BinaryPrimitives.WriteInt32LittleEndian(h, 348);
        W16(40, 3); W16(42, 4); W16(44, 3); W16(46, 2);
        W16(70, 4); W16(72, 16);
        return h;
    }

    private const string MetaHeader = "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\nCompressedData = False\nElementSpacing = 1 1 1\nDimSize = 4 3 2\nElementType = MET_SHORT\nElementDataFile = LOCAL\n";

    public static TheoryData<string, string, string> MetaImageCases() => new()
    {
        { "no NDims", MetaHeader.Replace("NDims = 3\n", ""), "has no NDims" },
        { "NDims zero", MetaHeader.Replace("NDims = 3", "NDims = 0"), "NDims = 0 must be between 1 and 7" },
        { "NDims text", MetaHeader.Replace("NDims = 3", "NDims = three"), "NDims = \"three\" is not an integer" },
        { "DimSize count", MetaHeader.Replace("DimSize = 4 3 2", "DimSize = 4 3"), "DimSize has 2 value(s), expected 3" },
        { "DimSize negative", MetaHeader.Replace("DimSize = 4 3 2", "DimSize = 4 -3 2"), "DimSize[1] = -3 must be positive" },
        { "DimSize huge", MetaHeader.Replace("DimSize = 4 3 2", "DimSize = 100000 100000 100000"), "but the file has only" },
        { "unsupported type", MetaHeader.Replace("MET_SHORT", "MET_STRING"), "unsupported MetaImage ElementType MET_STRING" },
        { "unknown type", MetaHeader.Replace("MET_SHORT", "MET_QUATERNION"), "unknown MetaImage ElementType \"MET_QUATERNION\"" },
        { "no ElementType", MetaHeader.Replace("ElementType = MET_SHORT\n", ""), "has no ElementType" },
        { "no ElementDataFile", MetaHeader.Replace("ElementDataFile = LOCAL\n", ""), "has no ElementDataFile line" },
        { "missing data file", MetaHeader.Replace("LOCAL", "gone.raw"), "data file gone.raw named by ElementDataFile not found" },
        { "file list", MetaHeader.Replace("LOCAL", "LIST"), "multi-file data (LIST or a %d pattern) is not supported" },
        { "ASCII data", MetaHeader.Replace("BinaryData = True", "BinaryData = False"), "BinaryData = False (voxels as ASCII text) is not supported" },
        { "bad boolean", MetaHeader.Replace("CompressedData = False", "CompressedData = Maybe"), "CompressedData = \"Maybe\" is not True or False" },
        { "spacing text", MetaHeader.Replace("ElementSpacing = 1 1 1", "ElementSpacing = 1 x 1"), "ElementSpacing value \"x\" is not a finite number" },
        { "spacing zero", MetaHeader.Replace("ElementSpacing = 1 1 1", "ElementSpacing = 1 0 1"), "ElementSpacing[1] = 0 must be positive" },
        { "matrix count", MetaHeader.Replace("ElementSpacing", "TransformMatrix = 1 0 0 1\nElementSpacing"), "TransformMatrix has 4 value(s), expected 9" },
        { "no equals", MetaHeader.Replace("NDims = 3", "NDims 3"), "line 2 \"NDims 3\" is not \"Key = Value\"" },
        { "not an image", MetaHeader.Replace("ObjectType = Image", "ObjectType = Tube"), "ObjectType = Tube is not an image" },
        { "zero channels", MetaHeader.Replace("ElementType", "ElementNumberOfChannels = 0\nElementType"), "ElementNumberOfChannels = 0 must be between 1 and 65535" },
        { "compressed at end", MetaHeader.Replace("CompressedData = False", "CompressedData = True\nHeaderSize = -1"), "HeaderSize = -1 (data at the end of the file) cannot be used with CompressedData = True" },
        { "binary garbage", "NDims = 3\n\u0001\u0002\u0003", "binary byte 0x01" },
        { "empty", "", "empty file" },
    };

    [Theory]
    [MemberData(nameof(MetaImageCases))]
    public void Read_BadMetaImageHeader_ThrowsNamingKeyAndProblem(string name, string header, string expected)
    {
        Assert.NotNull(name);
        using var tmp = TestPaths.NewTempFolder();
        // LOCAL voxels follow the header (a header that never ends must not read them as text).
        byte[] voxels = header.Contains("LOCAL", StringComparison.Ordinal) ? new byte[48] : [];
        File.WriteAllBytes(tmp.File("bad.mha"), [.. Encoding.Latin1.GetBytes(header), .. voxels]);

        AssertFails(tmp.File("bad.mha"), expected);
    }

    [Fact]
    public void Read_MetaImageWithTruncatedLocalData_Throws()
    {
        using var tmp = TestPaths.NewTempFolder();
        File.WriteAllBytes(tmp.File("t.mha"), [.. Encoding.ASCII.GetBytes(MetaHeader), .. new byte[40]]);

        AssertFails(tmp.File("t.mha"), "but the file has only");
    }

    [Fact]
    public void Read_MetaImageWithCorruptZlib_Throws()
    {
        using var tmp = TestPaths.NewTempFolder();
        var header = MetaHeader.Replace("CompressedData = False", "CompressedData = True");
        File.WriteAllBytes(tmp.File("z.mha"), [.. Encoding.ASCII.GetBytes(header), 0x78, 0x9c, .. Enumerable.Repeat((byte)0xff, 30)]);

        AssertFails(tmp.File("z.mha"), "zlib data is corrupt");
    }

    [Fact]
    public void Read_CompressedMetaImageClaimingTooMuch_ThrowsBeforeAllocating()
    {
        using var tmp = TestPaths.NewTempFolder();
        var header = MetaHeader.Replace("CompressedData = False", "CompressedData = True").Replace("DimSize = 4 3 2", "DimSize = 2000 2000 100");
        File.WriteAllBytes(tmp.File("zb.mha"), [.. Encoding.ASCII.GetBytes(header), .. Zlib(new byte[48])]);

        AssertFails(tmp.File("zb.mha"), "bytes of zlib data can hold at most");
    }

    [Fact]
    public void Read_UnrecognisedContentAndExtension_Throws()
    {
        using var tmp = TestPaths.NewTempFolder();
        File.WriteAllText(tmp.File("notes.txt"), "hello, not a volume");

        AssertFails(tmp.File("notes.txt"), "unrecognised volume format");
    }

    internal static VolumeFormatException AssertFails(string path, string expected, string? blamedFile = null)
    {
        var e = Assert.Throws<VolumeFormatException>(() => VolumeIO.Read(path));
        Assert.StartsWith((blamedFile ?? Path.GetFileName(path)) + ": ", e.Message);
        Assert.Contains(expected, e.Message);
        return e;
    }

    private static byte[] Fill(byte[] b, int offset, int count, byte value)
    {
        b.AsSpan(offset, count).Fill(value);
        return b;
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    private static byte[] Zlib(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Fastest)) z.Write(data);
        return ms.ToArray();
    }
}
