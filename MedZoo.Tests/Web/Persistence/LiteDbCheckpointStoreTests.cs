using MedZoo.Tests.Web.Support;

namespace MedZoo.Tests.Web.Persistence;

public sealed class LiteDbCheckpointStoreTests
{
    private static byte[] Read(Stream? s)
    {
        Assert.NotNull(s);
        using var m = new MemoryStream();
        s.CopyTo(m);
        s.Dispose();
        return m.ToArray();
    }

    [Fact]
    public async Task Save_ThenOpenRead_ReturnsTheBytes()
    {
        await using var f = new StoreFixture();
        var bytes = Enumerable.Range(0, 700_000).Select(i => (byte)(i * 7)).ToArray(); // several chunks
        f.Checkpoints.Save("r1", "best", 3, s => s.Write(bytes));
        Assert.Equal(bytes, Read(f.Checkpoints.OpenRead("r1", "best")));
        Assert.Equal(3, f.Checkpoints.Find("r1", "best")!.Epoch);
        Assert.Null(f.Checkpoints.OpenRead("r1", "last"));
    }

    [Fact]
    public async Task Save_SameKindTwice_KeepsOnlyTheNewest()
    {
        await using var f = new StoreFixture();
        f.Checkpoints.Save("r1", "last", 1, s => s.Write([1, 1]));
        f.Checkpoints.Save("r1", "last", 2, s => s.Write([2, 2, 2]));
        Assert.Equal(new byte[] { 2, 2, 2 }, Read(f.Checkpoints.OpenRead("r1", "last")));
        Assert.Single(f.Database.CheckpointFiles.FindAll());
    }

    [Fact]
    public async Task Save_WriterThrowsMidway_KeepsThePreviousCheckpoint()
    {
        await using var f = new StoreFixture();
        f.Checkpoints.Save("r1", "last", 1, s => s.Write([7, 7]));
        Assert.Throws<IOException>(() => f.Checkpoints.Save("r1", "last", 2, s =>
        {
            s.Write(new byte[300_000]);
            throw new IOException("disk full");
        }));
        Assert.Equal(new byte[] { 7, 7 }, Read(f.Checkpoints.OpenRead("r1", "last")));
        Assert.Equal(1, f.Checkpoints.Find("r1", "last")!.Epoch);
        Assert.Single(f.Database.CheckpointFiles.FindAll());
    }

    [Fact]
    public async Task RemoveOrphans_UploadWithoutPointer_IsDeleted()
    {
        await using var f = new StoreFixture();
        f.Checkpoints.Save("r1", "last", 1, s => s.Write([1]));
        // What a crash between upload and pointer swap leaves behind.
        using (var orphan = f.Database.CheckpointFiles.OpenWrite("ckpt/r1/last/crashed", "x")) orphan.Write([9, 9, 9]);
        Assert.Equal(1, f.Checkpoints.RemoveOrphans());
        Assert.Equal(new byte[] { 1 }, Read(f.Checkpoints.OpenRead("r1", "last")));
    }

    [Fact]
    public async Task Delete_Run_RemovesItsCheckpointsAndHistory()
    {
        await using var f = new StoreFixture();
        f.AddRun("r1");
        f.Checkpoints.Save("r1", "last", 1, s => s.Write([1]));
        Assert.True(f.Runs.Delete("r1"));
        Assert.Null(f.Checkpoints.OpenRead("r1", "last"));
        Assert.Empty(f.Database.CheckpointFiles.FindAll());
    }
    [Fact]
    public async Task OpenRead_SaveReplacesItMidRead_ReaderGetsTheWholeOldCheckpoint()
    {
        await using var f = new StoreFixture();
        var old = Enumerable.Range(0, 900_000).Select(i => (byte)(i * 13)).ToArray(); // several chunks
        f.Checkpoints.Save("r1", "last", 1, s => s.Write(old));
        var reader = f.Checkpoints.OpenRead("r1", "last")!;
        var head = new byte[1000];
        reader.ReadExactly(head);

        f.Checkpoints.Save("r1", "last", 2, s => s.Write(new byte[] { 2, 2 })); // a save while a download is under way

        using var rest = new MemoryStream();
        reader.CopyTo(rest);
        Assert.Equal(old, head.Concat(rest.ToArray()).ToArray());
        Assert.Equal(2, f.Database.CheckpointFiles.FindAll().Count()); // the old bytes are kept while read
        reader.Dispose();
        Assert.Single(f.Database.CheckpointFiles.FindAll()); // and deleted by the last reader
        Assert.Equal(new byte[] { 2, 2 }, Read(f.Checkpoints.OpenRead("r1", "last")));
    }

    [Fact]
    public async Task RemoveOrphans_DuringAnUpload_KeepsTheUpload()
    {
        await using var f = new StoreFixture();
        var bytes = Enumerable.Range(0, 800_000).Select(i => (byte)(i * 3)).ToArray();
        using var halfWritten = new SemaphoreSlim(0);
        using var goOn = new SemaphoreSlim(0);
        var save = Task.Run(() => f.Checkpoints.Save("r1", "last", 1, s =>
        {
            s.Write(bytes);
            s.Flush(); // the file is listed in storage now, the pointer not yet swapped
            halfWritten.Release();
            goOn.Wait();
        }));
        await halfWritten.WaitAsync();

        Assert.Equal(0, f.Checkpoints.RemoveOrphans()); // what the server does at start while the importer copies a checkpoint
        goOn.Release();
        await save;

        Assert.Equal(bytes, Read(f.Checkpoints.OpenRead("r1", "last")));
    }

    [Fact]
    public async Task RemoveOrphans_WhileAReplacedCheckpointIsRead_KeepsItUntilTheReaderIsDone()
    {
        await using var f = new StoreFixture();
        f.Checkpoints.Save("r1", "last", 1, s => s.Write([1, 1, 1]));
        var reader = f.Checkpoints.OpenRead("r1", "last")!;
        f.Checkpoints.Save("r1", "last", 2, s => s.Write([2]));
        Assert.Equal(0, f.Checkpoints.RemoveOrphans());
        Assert.Equal(new byte[] { 1, 1, 1 }, Read(reader));
        Assert.Equal(0, f.Checkpoints.RemoveOrphans());
        Assert.Single(f.Database.CheckpointFiles.FindAll());
    }
}
