using MedZoo.Engine;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using Microsoft.Extensions.Options;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Datasets;

/// <summary>The data-root allow-list: containment after resolving links and "..", whole-component prefixes, persisted admin roots.</summary>
public sealed class DataRootsTests : IAsyncLifetime
{
    private readonly TempFolder _outside = TestPaths.NewTempFolder();
    private readonly TempFolder _data = TestPaths.NewTempFolder();
    private StoreFixture _store = null!;

    public Task InitializeAsync()
    {
        _store = new StoreFixture(_data);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _data.Dispose();
        _outside.Dispose();
    }

    private string DataFolder => _data.Path;

    private DataRoots Roots(Dictionary<string, string>? configured = null) =>
        new(_store.Datasets, _store.DataOptions, Options.Create(new DataAccessOptions { Roots = configured ?? [] }), TimeProvider.System);

    private string MakeDir(params string[] parts)
    {
        var path = Path.Combine(parts);
        Directory.CreateDirectory(path);
        return path;
    }

    [Fact]
    public void ResolveReadable_FolderInTheDataFolder_ReturnsItsRealPath()
    {
        var inside = MakeDir(DataFolder, "datasets", "brats");
        Assert.Equal(DataRoots.RealPath(inside), Roots().ResolveReadable(inside, "Folder"));
        // Relative paths are taken from the data folder.
        Assert.Equal(DataRoots.RealPath(inside), Roots().ResolveReadable("datasets/brats", "Folder"));
    }

    [Fact]
    public void ResolveReadable_FolderOutsideEveryRoot_IsRefusedNamingRootsNotPaths()
    {
        var e = Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable(_outside.Path, "Dataset.Path"));
        Assert.Equal("Dataset.Path", e.Error.Path);
        Assert.StartsWith("Dataset.Path: ", e.Message);
        Assert.Contains("(data)", e.Message);
        Assert.DoesNotContain(_outside.Path, e.Message);
        Assert.DoesNotContain(DataFolder, e.Message);
    }

    [Fact]
    public void ResolveReadable_SymlinkInsideARootPointingOutside_IsRefused()
    {
        var secret = MakeDir(_outside.Path, "secret");
        var link = Path.Combine(DataFolder, "innocent");
        Directory.CreateSymbolicLink(link, secret);
        Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable(link, "Folder"));
        Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable(Path.Combine(link, "sub"), "Folder"));
        Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable("innocent", "Folder"));
    }

    [Fact]
    public void ResolveReadable_SymlinkWithinTheRoot_IsFollowedAndAllowed()
    {
        var real = MakeDir(DataFolder, "store", "mri");
        var link = Path.Combine(DataFolder, "mri-link");
        Directory.CreateSymbolicLink(link, "store/mri"); // relative target, from the link's folder
        Assert.Equal(DataRoots.RealPath(real), Roots().ResolveReadable(link, "Folder"));
    }

    [Fact]
    public void ResolveReadable_DotDotOutOfTheRoot_IsRefused()
    {
        MakeDir(DataFolder, "datasets");
        var escape = DataFolder + "/datasets/../../" + Path.GetFileName(_outside.Path) + "/../" + Path.GetFileName(_outside.Path);
        Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable(escape, "Folder"));
        Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable("../", "Folder"));
        Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable("datasets/../..", "Folder"));
    }

    [Fact]
    public void ResolveReadable_DotDotAfterASymlink_GoesUpFromTheLinkTarget()
    {
        // link -> outside/a/b, so link/../c is outside/a/c for the kernel, although the text
        // collapses to DATA/c. The check must see what the kernel would open.
        MakeDir(_outside.Path, "a", "b");
        MakeDir(_outside.Path, "a", "c");
        MakeDir(DataFolder, "c");
        Directory.CreateSymbolicLink(Path.Combine(DataFolder, "link"), Path.Combine(_outside.Path, "a", "b"));
        Assert.Equal(DataRoots.RealPath(Path.Combine(_outside.Path, "a", "c")), DataRoots.RealPath(DataFolder + "/link/../c"));
        Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable(DataFolder + "/link/../c", "Folder"));
    }

    [Fact]
    public void ResolveReadable_SiblingSharingTheRootsNameAsAPrefix_IsRefused()
    {
        var data = MakeDir(_outside.Path, "data");
        var evil = MakeDir(_outside.Path, "data-evil");
        var roots = Roots(new() { ["shared"] = data });
        Assert.Equal(DataRoots.RealPath(Path.Combine(data, "x")), roots.ResolveReadable(Path.Combine(data, "x"), "Folder"));
        Assert.Throws<InvalidOptionException>(() => roots.ResolveReadable(evil, "Folder"));
        Assert.Throws<InvalidOptionException>(() => roots.ResolveReadable(data + "-evil/x", "Folder"));
        Assert.False(DataRoots.IsUnder("/data-evil", "/data"));
        Assert.False(DataRoots.IsUnder("/dataset", "/data/"));
        Assert.True(DataRoots.IsUnder("/data/x", "/data/"));
        Assert.True(DataRoots.IsUnder("/data", "/data"));
        Assert.True(DataRoots.IsUnder("/anything", "/"));
    }

    [Fact]
    public void RealPath_SymlinkLoop_ThrowsInsteadOfSpinning()
    {
        var a = Path.Combine(DataFolder, "loop-a");
        var b = Path.Combine(DataFolder, "loop-b");
        File.CreateSymbolicLink(a, b);
        File.CreateSymbolicLink(b, a);
        Assert.Throws<IOException>(() => DataRoots.RealPath(Path.Combine(a, "x")));
        var e = Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable(a, "Folder"));
        Assert.DoesNotContain(DataFolder, e.Message);
    }

    [Fact]
    public void ResolveWritable_OutsideTheDataFolderEvenUnderAReadRoot_IsRefused()
    {
        var shared = MakeDir(_outside.Path, "shared");
        var roots = Roots(new() { ["shared"] = shared });
        Assert.Equal(DataRoots.RealPath(shared), roots.ResolveReadable(shared, "Dataset.Path"));
        var e = Assert.Throws<InvalidOptionException>(() => roots.ResolveWritable(Path.Combine(shared, "logs"), "LogDirectory"));
        Assert.StartsWith("LogDirectory: ", e.Message);
        Assert.DoesNotContain(shared, e.Message);
        Assert.Throws<InvalidOptionException>(() => roots.ResolveWritable("/tmp", "LogDirectory"));
        Assert.Equal(DataRoots.RealPath(Path.Combine(DataFolder, "runs", "tb")), roots.ResolveWritable("runs/tb", "LogDirectory"));
    }

    [Fact]
    public async Task Add_ByAnAdmin_AllowsTheFolderAndIsKeptAcrossRestarts()
    {
        var mri = MakeDir(_outside.Path, "mri");
        Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable(mri, "Folder"));
        Assert.Throws<UnauthorizedAccessException>(() => Roots().Add(Principal("op", Roles.Operator), "mri", mri));
        Roots().Add(Admin, "mri", mri);
        Assert.Equal(DataRoots.RealPath(Path.Combine(mri, "case1")), Roots().ResolveReadable(Path.Combine(mri, "case1"), "Folder"));
        Assert.Throws<ArgumentException>(() => Roots().Add(Admin, "MRI", mri)); // names are unique, case-insensitively
        Assert.Throws<ArgumentException>(() => Roots().Add(Admin, "data", mri));
        Assert.Throws<ArgumentException>(() => Roots().Add(Admin, "nope", Path.Combine(_outside.Path, "missing")));
        Assert.Throws<ArgumentException>(() => Roots().Add(Admin, "../x", mri));

        // Stored in the database: a new server on the same data folder still allows it.
        await _store.DisposeAsync();
        _store = new StoreFixture(_data);
        Assert.Contains(Roots().List(), r => r is { Name: "mri", Source: DataRootSource.Admin });
        Assert.Throws<UnauthorizedAccessException>(() => Roots().Remove(Principal("op", Roles.Operator), "mri"));
        Assert.True(Roots().Remove(Admin, "mri"));
        Assert.Throws<InvalidOptionException>(() => Roots().ResolveReadable(mri, "Folder"));
    }

    [Fact]
    public void Describe_PathUnderARoot_NamesTheRootAndTheFolderBelowIt()
    {
        var inside = MakeDir(DataFolder, "datasets", "brats");
        Assert.Equal("data: " + Path.Combine("datasets", "brats"), Roots().Describe(inside));
        Assert.Equal("outside the data roots", Roots().Describe(_outside.Path));
    }

    [Theory]
    [InlineData("data")]
    [InlineData("bad name")]
    public void Validate_BadConfiguredRoot_NamesTheSetting(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => new DataAccessOptions { Roots = new() { [name] = "/srv" } }.Validate());
        Assert.Contains("MedZoo:Data:Roots:" + name, e.Message);
        Assert.Throws<ArgumentException>(() => new DataAccessOptions { Roots = new() { ["rel"] = "relative/path" } }.Validate());
        Assert.Throws<ArgumentException>(() => new DataAccessOptions { MemoryBudgetBytes = -1 }.Validate());
    }
}
