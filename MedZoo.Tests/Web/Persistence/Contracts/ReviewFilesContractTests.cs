using MedZoo.Tests.TestSupport;
using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Reviews;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>
/// What every <see cref="IReviewFiles"/> must do: the embedded data folder's (<see cref="LocalReviewFiles"/>) and cluster
/// mode's PostgreSQL chunks (<see cref="PostgresReviewFiles"/>, on a real server), through the interface only.
/// </summary>
public abstract class ReviewFilesContractTests : IAsyncLifetime
{
    private readonly TempFolder _data = TestPaths.NewTempFolder();

    protected IReviewFiles Files { get; private set; } = null!;

    /// <summary>The data folder's helper the store under test uses (scratch folders, and the local files' paths).</summary>
    protected ReviewStorage Storage { get; private set; } = null!;

    protected abstract Task<IReviewFiles> OpenAsync(ReviewStorage storage);

    public async Task InitializeAsync()
    {
        Storage = new ReviewStorage(Options.Create(new DataOptions { DataDirectory = _data.Path }));
        Files = await OpenAsync(Storage);
    }

    public virtual Task DisposeAsync()
    {
        _data.Dispose();
        return Task.CompletedTask;
    }

    // Over one 4 MiB chunk, so that PostgreSQL's copy spans chunks; deterministic content.
    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private void Store(ReviewFileArea area, string id, params (string Name, byte[] Bytes)[] files)
    {
        using var stage = Files.Stage(area, id);
        foreach (var (name, bytes) in files) File.WriteAllBytes(stage.File(name), bytes);
        stage.Commit();
    }

    private byte[] Read(ReviewFileArea area, string id, string name)
    {
        using var stream = Files.OpenRead(area, id, name) ?? throw new FileNotFoundException($"{area} {id} has no {name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public void Stage_Committed_EveryFileReadsBackByteForByte()
    {
        var big = Bytes((4 << 20) * 2 + 12345, 1);
        var small = Bytes(100, 2);
        Store(ReviewFileArea.Reviews, "20261207-000000-abc123", ("image-0.u16", big), ("metrics.csv", small), ("truth.u8", []));

        Assert.Equal(big, Read(ReviewFileArea.Reviews, "20261207-000000-abc123", "image-0.u16"));
        Assert.Equal(small, Read(ReviewFileArea.Reviews, "20261207-000000-abc123", "metrics.csv"));
        Assert.Equal([], Read(ReviewFileArea.Reviews, "20261207-000000-abc123", "truth.u8"));
        Assert.True(Files.Exists(ReviewFileArea.Reviews, "20261207-000000-abc123", "truth.u8"));
        // The areas are apart: the same id and name among the uploads is another file.
        Assert.Null(Files.OpenRead(ReviewFileArea.Uploads, "20261207-000000-abc123", "metrics.csv"));
    }

    [Fact]
    public void OpenRead_SeekAcrossChunks_ReadsFromThere()
    {
        var big = Bytes((4 << 20) + 100, 3);
        Store(ReviewFileArea.Uploads, "u1", ("t1.nii.gz", big));

        using var stream = Files.OpenRead(ReviewFileArea.Uploads, "u1", "t1.nii.gz")!;
        Assert.True(stream.CanSeek);
        Assert.Equal(big.Length, stream.Length);
        var buffer = new byte[20];
        stream.Seek(-20, SeekOrigin.End);
        stream.ReadExactly(buffer);
        Assert.Equal(big[^20..], buffer);
        stream.Position = (4 << 20) - 5;
        stream.ReadExactly(buffer); // the last 5 bytes of the first chunk, then the second
        Assert.Equal(big[((4 << 20) - 5)..((4 << 20) + 15)], buffer);
        stream.Seek(0, SeekOrigin.End);
        Assert.Equal(0, stream.Read(buffer));
    }

    [Fact]
    public void Stage_DisposedWithoutCommit_StoresNothingAndLeavesNoFolder()
    {
        string folder;
        using (var stage = Files.Stage(ReviewFileArea.Uploads, "u2"))
        {
            folder = stage.Folder;
            File.WriteAllBytes(stage.File("t1.nii"), [1, 2, 3]);
        }

        Assert.False(Directory.Exists(folder));
        Assert.False(Files.Exists(ReviewFileArea.Uploads, "u2", "t1.nii"));
        Assert.Null(Files.OpenRead(ReviewFileArea.Uploads, "u2", "t1.nii"));
    }

    [Fact]
    public void Stage_CommittedAgain_ReplacesTheWholeSet()
    {
        Store(ReviewFileArea.Reviews, "r1", ("prediction.u8", [1]), ("entropy.u8", [2]));

        Store(ReviewFileArea.Reviews, "r1", ("prediction.u8", [3, 4]));

        Assert.Equal([3, 4], Read(ReviewFileArea.Reviews, "r1", "prediction.u8"));
        Assert.False(Files.Exists(ReviewFileArea.Reviews, "r1", "entropy.u8"));
    }

    [Fact]
    public void OpenRead_MissingFileOrOwner_ReturnsNullAndFetchLeavesThemOut()
    {
        Store(ReviewFileArea.Uploads, "u3", ("a.hdr", [1, 2]), ("a.img", [3, 4, 5]), ("b.nii", [6]));

        Assert.Null(Files.OpenRead(ReviewFileArea.Uploads, "u3", "missing.nii"));
        Assert.Null(Files.OpenRead(ReviewFileArea.Uploads, "nobody", "a.hdr"));
        Assert.False(Files.Exists(ReviewFileArea.Uploads, "u3", "missing.nii"));

        using var some = Files.Fetch(ReviewFileArea.Uploads, "u3", ["a.hdr", "a.img", "missing.nii"]);
        Assert.Equal([1, 2], File.ReadAllBytes(some.File("a.hdr")));
        Assert.Equal([3, 4, 5], File.ReadAllBytes(some.File("a.img")));
        Assert.False(File.Exists(some.File("missing.nii")));
        using var all = Files.Fetch(ReviewFileArea.Uploads, "u3");
        Assert.Equal([6], File.ReadAllBytes(all.File("b.nii")));
        Assert.Throws<InvalidOperationException>(all.Commit);
    }

    [Fact]
    public void Delete_AnOwner_RemovesItsFilesOnly()
    {
        Store(ReviewFileArea.Reviews, "r2", ("prediction.u8", [1]));
        Store(ReviewFileArea.Reviews, "r3", ("prediction.u8", [2]));

        Files.Delete(ReviewFileArea.Reviews, "r2");
        Files.Delete(ReviewFileArea.Reviews, "never-stored");

        Assert.Null(Files.OpenRead(ReviewFileArea.Reviews, "r2", "prediction.u8"));
        Assert.Equal([2], Read(ReviewFileArea.Reviews, "r3", "prediction.u8"));
    }

    public static TheoryData<string> HostileNames =>
    [
        "../escape", "..", "a/b", "a\\b", "/etc/passwd", "", ".hidden", "name\0", "nämé.nii", new string('a', ReviewStorage.MaxNameLength + 1),
    ];

    [Theory]
    [MemberData(nameof(HostileNames))]
    public void EveryMethod_HostileIdOrName_IsRefusedAndNothingIsWritten(string hostile)
    {
        Assert.Throws<ArgumentException>(() => Files.OpenRead(ReviewFileArea.Reviews, "r4", hostile));
        Assert.Throws<ArgumentException>(() => Files.OpenRead(ReviewFileArea.Reviews, hostile, "prediction.u8"));
        Assert.Throws<ArgumentException>(() => Files.Exists(ReviewFileArea.Uploads, "u4", hostile));
        Assert.Throws<ArgumentException>(() => Files.Stage(ReviewFileArea.Uploads, hostile));
        Assert.Throws<ArgumentException>(() => Files.Fetch(ReviewFileArea.Uploads, hostile));
        Assert.Throws<ArgumentException>(() => Files.Fetch(ReviewFileArea.Uploads, "u4", [hostile]));
        Assert.Throws<ArgumentException>(() => Files.Delete(ReviewFileArea.Reviews, hostile));
        using var stage = Files.Stage(ReviewFileArea.Uploads, "u4");
        Assert.Throws<ArgumentException>(() => stage.File(hostile));
        stage.Commit();
        using var fetched = Files.Fetch(ReviewFileArea.Uploads, "u4");
        Assert.Empty(Directory.GetFiles(fetched.Folder));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(Storage.ReviewsRoot)!, "escape")));
    }
}

/// <summary>The embedded mode's files in the data folder.</summary>
public sealed class ReviewFilesContractTests_Local : ReviewFilesContractTests
{
    protected override Task<IReviewFiles> OpenAsync(ReviewStorage storage) => Task.FromResult<IReviewFiles>(new LocalReviewFiles(storage));

    [Fact]
    public void Stage_Committed_FilesAreWhereReviewStorageSaysAndNoStagingFolderRemains()
    {
        using (var stage = Files.Stage(ReviewFileArea.Reviews, "r5"))
        {
            File.WriteAllBytes(stage.File("prediction.u8"), [7]);
            stage.Commit();
        }

        Assert.Equal([7], File.ReadAllBytes(Storage.ReviewFile("r5", "prediction.u8")));
        Assert.Equal([Storage.ReviewFolder("r5")], Directory.GetDirectories(Storage.ReviewsRoot));
    }
}

/// <summary>Cluster mode's files as bytea chunks in a real PostgreSQL.</summary>
public sealed class ReviewFilesContractTests_Cluster(PostgresServerFixture server) : ReviewFilesContractTests, IClassFixture<PostgresServerFixture>
{
    private PostgresStoreEngine? _engine;

    protected override async Task<IReviewFiles> OpenAsync(ReviewStorage storage)
    {
        _engine = await server.OpenAsync();
        return new PostgresReviewFiles(_engine.Database, storage);
    }

    public override async Task DisposeAsync()
    {
        if (_engine is not null) await _engine.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public void Fetch_Disposed_RemovesTheLocalCopies()
    {
        using (var stage = Files.Stage(ReviewFileArea.Uploads, "u6"))
        {
            File.WriteAllBytes(stage.File("t1.nii"), [1]);
            stage.Commit();
        }
        string folder;
        using (var fetched = Files.Fetch(ReviewFileArea.Uploads, "u6"))
        {
            folder = fetched.Folder;
            Assert.Equal([1], File.ReadAllBytes(fetched.File("t1.nii")));
        }

        Assert.False(Directory.Exists(folder));
        Assert.Empty(Directory.GetDirectories(Storage.ScratchRoot));
    }
}
