using MedZoo.Engine.IO;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using MedZoo.Web.Reviews;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Tests.Web.Reviews;

public sealed class UploadServiceTests : IDisposable
{
    private readonly TempFolder _folder = TestPaths.NewTempFolder();
    private readonly TempFolder _source = TestPaths.NewTempFolder();
    private readonly MedZooDatabase _database;
    private readonly ReviewRepository _repository;
    private readonly ReviewStorage _storage;

    public UploadServiceTests()
    {
        var data = Options.Create(new DataOptions { DataDirectory = _folder.Path });
        _database = new MedZooDatabase(data);
        _repository = new ReviewRepository(_database);
        _storage = new ReviewStorage(data);
    }

    private UploadService Service(ReviewOptions? options = null) =>
        new(_repository, new LocalReviewFiles(_storage), Options.Create(options ?? new ReviewOptions()), TimeProvider.System);

    private static System.Security.Claims.ClaimsPrincipal Operator => AppTestHelpers.Principal("op", Roles.Operator);

    private IncomingFile File(string name, byte[] bytes)
    {
        // Stored under a neutral name: the client's name (possibly hostile) only travels with the upload.
        var path = Path.Combine(_source.Path, Guid.NewGuid().ToString("N"));
        System.IO.File.WriteAllBytes(path, bytes);
        return new IncomingFile(name, () => System.IO.File.OpenRead(path));
    }

    private IncomingFile VolumeFile(string name, Volume v)
    {
        var path = Path.Combine(_source.Path, name);
        VolumeIO.Write(v, path);
        return new IncomingFile(name, () => System.IO.File.OpenRead(path));
    }

    private static Volume Image(int x = 6, int y = 5, int z = 4, double spacing = 1) =>
        Volume.FromArray<float>(Enumerable.Range(0, x * y * z).Select(i => (float)i).ToArray(), [x, y, z],
            new VolumeGeometry([spacing, 0, 0, 1, 0, spacing, 0, 2, 0, 0, spacing, 3, 0, 0, 0, 1]));

    /// <summary>A NIfTI-1 header of 348 bytes declaring <paramref name="dims"/> int16 voxels, with no data after it.</summary>
    private static byte[] Header(params short[] dims)
    {
        var h = new byte[352];
        BitConverter.GetBytes(348).CopyTo(h, 0);
        BitConverter.GetBytes((short)dims.Length).CopyTo(h, 40);
        for (var i = 0; i < dims.Length; i++) BitConverter.GetBytes(dims[i]).CopyTo(h, 42 + 2 * i);
        BitConverter.GetBytes((short)4).CopyTo(h, 70);   // datatype int16
        BitConverter.GetBytes((short)16).CopyTo(h, 72);  // bitpix
        for (var i = 0; i < 4; i++) BitConverter.GetBytes(1f).CopyTo(h, 76 + 4 * i);
        BitConverter.GetBytes(352f).CopyTo(h, 108);      // vox_offset
        "n+1\0"u8.ToArray().CopyTo(h, 344);
        return h;
    }

    [Fact]
    public async Task StoreAsync_ValidImagesAndLabel_StoresThemUnderTheDataFolder()
    {
        var label = Volume.FromArray<byte>(Enumerable.Range(0, 120).Select(i => (byte)(i % 3)).ToArray(), [6, 5, 4], Image().Geometry);
        var doc = await Service().StoreAsync(Operator, "case 1", [VolumeFile("t1.nii.gz", Image()), VolumeFile("t2.nii", Image())], [VolumeFile("seg.nii.gz", label)]);
        Assert.Equal(["t1.nii.gz", "t2.nii"], doc.Images);
        Assert.Equal("seg.nii.gz", doc.Label);
        Assert.Equal([6, 5, 4], doc.Shape);
        Assert.Equal(2, doc.Channels);
        Assert.True(System.IO.File.Exists(Path.Combine(_folder.Path, "uploads", doc.Id, "t1.nii.gz")));
        Assert.NotNull(_repository.GetUpload(doc.Id));
    }

    [Fact]
    public async Task StoreAsync_Viewer_IsRefusedWhateverThePageShows()
    {
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() =>
            Service().StoreAsync(AppTestHelpers.Principal("v", Roles.Viewer), null, [VolumeFile("t1.nii.gz", Image())], []));
        Assert.Empty(_repository.Uploads());
    }

    [Fact]
    public async Task StoreAsync_CorruptGzip_SaysSoAndLeavesNothing()
    {
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() =>
            Service().StoreAsync(Operator, null, [File("broken.nii.gz", [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])], []));
        Assert.Contains("broken.nii.gz", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(_storage.UploadsRoot));
        Assert.Empty(_repository.Uploads());
    }

    [Fact]
    public async Task StoreAsync_AbsurdHeaderDimensions_AreRefusedBeforeReadingData()
    {
        // 30000³ int16 would be 54 TB: the header check refuses it before the reader looks for data.
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() =>
            Service().StoreAsync(Operator, null, [File("huge.nii", Header(3, 30000, 30000, 30000))], []));
        Assert.StartsWith("huge.nii is not a NIfTI or Analyze file this page can read", e.Message, StringComparison.Ordinal);
        Assert.Contains("30000×30000×30000", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreAsync_DimensionOverTheLimit_NamesTheSetting()
    {
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() =>
            Service(new ReviewOptions { MaxDimension = 5 }).StoreAsync(Operator, null, [VolumeFile("t1.nii.gz", Image())], []));
        Assert.StartsWith("t1.nii.gz is too large to review: 6 voxels along axis 1, the limit is 5. Crop or resample it", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxDimension = 5", e.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("MaxDimension", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreAsync_TooManyVoxels_NamesTheSetting()
    {
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() =>
            Service(new ReviewOptions { MaxVoxels = 50 }).StoreAsync(Operator, null, [VolumeFile("t1.nii.gz", Image())], []));
        Assert.Contains("MaxVoxels", e.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("MaxVoxels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreAsync_TruncatedData_IsAClearError()
    {
        var bytes = System.IO.File.ReadAllBytes(WriteTemp("full.nii", Image()));
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() =>
            Service().StoreAsync(Operator, null, [File("cut.nii", bytes[..400])], []));
        Assert.Contains("cut.nii", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreAsync_OverTheSizeLimit_NamesTheLimit()
    {
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() =>
            Service(new ReviewOptions { MaxUploadBytes = 100 }).StoreAsync(Operator, null, [VolumeFile("t1.nii", Image())], []));
        Assert.StartsWith("The upload is larger than 100 bytes (reached at t1.nii): upload fewer files at a time", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxUploadBytes = 100", e.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("notes.txt")]
    [InlineData("image.png")]
    [InlineData("..")]
    [InlineData("../../etc/passwd")]
    public async Task StoreAsync_UnsupportedType_ListsTheFormats(string name)
    {
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() => Service().StoreAsync(Operator, null, [File(name, [1, 2, 3])], []));
        Assert.True(e.Message.Contains("upload NIfTI (.nii or .nii.gz", StringComparison.Ordinal) || e.Message.StartsWith("Rename the file", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public async Task StoreAsync_AnalyzeHeaderWithoutItsImg_AsksForIt()
    {
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() => Service().StoreAsync(Operator, null, [File("brain.hdr", Header(3, 2, 2, 2))], []));
        Assert.Contains("brain.img", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreAsync_MetaImagePointingOutside_IsRefused()
    {
        var mhd = "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_UCHAR\nElementDataFile = ../../../../etc/passwd\n"u8.ToArray();
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() => Service().StoreAsync(Operator, null, [File("evil.mhd", mhd)], []));
        Assert.Contains("evil.mhd", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreAsync_LabelOnAnotherGrid_IsRefused()
    {
        var label = Volume.FromArray<byte>(new byte[7 * 5 * 4], [7, 5, 4], Image().Geometry);
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() =>
            Service().StoreAsync(Operator, null, [VolumeFile("t1.nii.gz", Image())], [VolumeFile("seg.nii.gz", label)]));
        Assert.Contains("one grid", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreAsync_TextFileNamedNii_LeadsWithWhatToUploadAndKeepsTheHeaderFieldsInTheDetail()
    {
        var text = System.Text.Encoding.ASCII.GetBytes("hello, this is a text file and not a volume at all. " + new string('x', 400));
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() => Service().StoreAsync(Operator, null, [File("scan.nii", text)], []));
        Assert.Equal("scan.nii is not a NIfTI or Analyze file this page can read: expected a whole .nii or .nii.gz volume, or a .hdr header with its .img, as ITK-SNAP, 3D Slicer, FSL or nibabel write them.", e.Message);
        Assert.NotNull(e.Detail);
        Assert.Contains("sizeof_hdr is 1819043176 (expected 348", e.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("scan.nii", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreAsync_BrokenMetaImage_LeadsWithTheMetaImageFormat()
    {
        var e = await Assert.ThrowsAsync<UploadRejectedException>(() =>
            Service().StoreAsync(Operator, null, [File("ct.mha", "this is not a MetaImage header\n"u8.ToArray())], []));
        Assert.StartsWith("ct.mha is not a MetaImage file this page can read: expected a whole .mha, or an .mhd with its .raw or .zraw data file", e.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(e.Detail));
    }

    /// <summary>Every refusal: the file named at most once, what to do first, no reader internals in the message.</summary>
    [Fact]
    public async Task StoreAsync_EveryRefusal_NamesTheFileOnceAndLeavesReaderInternalsToTheDetail()
    {
        var full = System.IO.File.ReadAllBytes(WriteTemp("full.nii", Image()));
        var otherGrid = Volume.FromArray<byte>(new byte[7 * 5 * 4], [7, 5, 4], Image().Geometry);
        var cases = new (string File, Func<Task> Upload)[]
        {
            ("scan.nii", () => Service().StoreAsync(Operator, null, [File("scan.nii", new byte[400])], [])),
            ("broken.nii.gz", () => Service().StoreAsync(Operator, null, [File("broken.nii.gz", [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])], [])),
            ("cut.nii", () => Service().StoreAsync(Operator, null, [File("cut.nii", full[..400])], [])),
            ("huge.nii", () => Service().StoreAsync(Operator, null, [File("huge.nii", Header(3, 30000, 30000, 30000))], [])),
            ("flat.nii", () => Service().StoreAsync(Operator, null, [File("flat.nii", Header(3, 4, 4, 1))], [])),
            ("brain.hdr", () => Service().StoreAsync(Operator, null, [File("brain.hdr", Header(3, 2, 2, 2))], [])),
            ("notes.txt", () => Service().StoreAsync(Operator, null, [File("notes.txt", [1, 2, 3])], [])),
            ("seg.nii.gz", () => Service().StoreAsync(Operator, null, [VolumeFile("t1.nii.gz", Image())], [VolumeFile("seg.nii.gz", otherGrid)])),
            ("t1.nii", () => Service(new ReviewOptions { MaxUploadBytes = 100 }).StoreAsync(Operator, null, [VolumeFile("t1.nii", Image())], [])),
        };
        foreach (var (file, upload) in cases)
        {
            var e = await Assert.ThrowsAsync<UploadRejectedException>(upload);
            Assert.True(Count(e.Message, file) == 1, $"{file}: named {Count(e.Message, file)} times in \"{e.Message}\"");
            foreach (var internalText in new[] { "sizeof_hdr", "dim[", "vox_offset", "(Parameter", "Exception", "MaxDimension", "MaxVoxels", "MaxUploadBytes" })
                Assert.False(e.Message.Contains(internalText, StringComparison.Ordinal), $"{file}: '{internalText}' in \"{e.Message}\"");
            Assert.EndsWith(".", e.Message);
            Assert.True(e.Detail is null || !e.Detail.Contains(file + ":", StringComparison.Ordinal), $"{file}: the detail repeats the file name: {e.Detail}");
        }
    }

    private static int Count(string text, string word) => (text.Length - text.Replace(word, "", StringComparison.Ordinal).Length) / word.Length;

    [Fact]
    public async Task Remove_DeletesTheFilesAndTheRecord()
    {
        var service = Service();
        var doc = await service.StoreAsync(Operator, null, [VolumeFile("t1.nii.gz", Image())], []);
        Assert.Throws<UnauthorizedAccessException>(() => service.Remove(AppTestHelpers.Principal("v", Roles.Viewer), doc.Id));
        Assert.True(service.Remove(Operator, doc.Id));
        Assert.False(Directory.Exists(_storage.UploadFolder(doc.Id)));
        Assert.Null(_repository.GetUpload(doc.Id));
    }

    private string WriteTemp(string name, Volume v)
    {
        var path = Path.Combine(_source.Path, "tmp-" + name);
        VolumeIO.Write(v, path);
        return path;
    }

    public void Dispose()
    {
        _database.Dispose();
        _folder.Dispose();
        _source.Dispose();
    }
}
