using MedZoo.Tests.Web.Runs;
using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="IRunCheckpointStore"/> must do: atomic replacement, readers keep their bytes, limits, cascades.</summary>
public abstract class CheckpointStoreContractTests : StoreContractTests
{
    // Larger than PostgreSQL's 4 MiB chunk, not a multiple of it, so a checkpoint spans several chunks and a short last one.
    protected static byte[] Bytes(int length, byte seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++) bytes[i] = (byte)(i * 31 + seed);
        return bytes;
    }

    protected static byte[] ReadAll(Stream s)
    {
        using var copy = new MemoryStream();
        s.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public void SaveThenOpen_LargeCheckpoint_SameBytesAndItsPointer()
    {
        var bytes = Bytes(9 * 1024 * 1024 + 123, 1);

        var id = Engine.Checkpoints.Save("r", "last", 3, s => { s.Flush(); s.Write(bytes, 0, 1000); s.Flush(); s.Write(bytes, 1000, bytes.Length - 1000); });

        var opened = Engine.Checkpoints.Open("r", "last");
        Assert.NotNull(opened);
        using (var stream = opened.Value.Stream) Assert.Equal(bytes, ReadAll(stream));
        Assert.Equal(3, opened.Value.Pointer.Epoch);
        Assert.Equal(bytes.Length, opened.Value.Pointer.Bytes);
        Assert.Equal(id, Engine.Checkpoints.Find("r", "last")!.Id);
        Assert.Null(Engine.Checkpoints.Open("r", "best"));
        Assert.Null(Engine.Checkpoints.OpenRead("other", "last"));
    }

    [Fact]
    public void Open_Seek_ReadsFromAnyPositionSoThatAZipCheckpointsHeaderCanBeRead()
    {
        // A short first chunk (the writer flushed after 1000 bytes), then full ones and a short last one.
        var bytes = Bytes(9 * 1024 * 1024 + 123, 4);
        Engine.Checkpoints.Save("r", "last", 1, s => { s.Write(bytes, 0, 1000); s.Flush(); s.Write(bytes, 1000, bytes.Length - 1000); });
        using (var stream = Engine.Checkpoints.OpenRead("r", "last")!)
        {
            Assert.True(stream.CanSeek);
            foreach (var at in new long[] { bytes.Length - 10, 5, 999, 1000, 6, 4 * 1024 * 1024 + 999, 4 * 1024 * 1024 + 1000, 0, 8 * 1024 * 1024 + 1500 })
            {
                stream.Position = at;
                var buffer = new byte[Math.Min(2000, bytes.Length - at)];
                stream.ReadExactly(buffer);
                Assert.True(bytes.AsSpan((int)at, buffer.Length).SequenceEqual(buffer), $"bytes read at {at} differ");
                Assert.Equal(at + buffer.Length, stream.Position);
            }
            Assert.Equal(bytes.Length - 3, stream.Seek(-3, SeekOrigin.End));
            Assert.Equal(bytes[^3..], ReadAll(stream));
            stream.Position = bytes.Length;
            Assert.Equal(0, stream.Read(new byte[1]));
        }
        var checkpoint = TestCheckpoints.Bytes("r", "best", 2, [TestCheckpoints.Epoch("r", 1, 0.5), TestCheckpoints.Epoch("r", 2, 0.4)], weightBytes: 5 * 1024 * 1024);
        Engine.Checkpoints.Save("r", "best", 2, s => s.Write(checkpoint));
        using var zip = Engine.Checkpoints.OpenRead("r", "best")!;
        var header = MedZoo.Engine.Checkpoints.Checkpoint.ReadHeader(zip);
        Assert.Equal(2, header.Epoch);
        Assert.Equal([1, 2], MedZoo.Engine.Training.CheckpointHistory.Epochs(header).Select(e => e.Epoch));
    }

    [Fact]
    public void Save_ReplacingWhileAReaderIsOpen_ReaderKeepsItsBytesAndNewReadersGetTheNewOnes()
    {
        var old = Bytes(5 * 1024 * 1024, 2);
        var next = Bytes(1024, 3);
        Engine.Checkpoints.Save("r", "best", 1, s => s.Write(old));
        using var reader = Engine.Checkpoints.OpenRead("r", "best")!;
        var head = new byte[10];
        reader.ReadExactly(head);

        Engine.Checkpoints.Save("r", "best", 2, s => s.Write(next));

        Assert.Equal(old, head.Concat(ReadAll(reader)).ToArray());
        using (var fresh = Engine.Checkpoints.OpenRead("r", "best")!) Assert.Equal(next, ReadAll(fresh));
        Assert.Equal(2, Engine.Checkpoints.Find("r", "best")!.Epoch);
        Assert.Equal(0, Engine.Checkpoints.RemoveOrphans());
    }

    [Fact]
    public void Save_WriterFails_OldCheckpointStaysAndNothingIsLeftOver()
    {
        var old = Bytes(2000, 4);
        Engine.Checkpoints.Save("r", "last", 1, s => s.Write(old));

        Assert.Throws<IOException>(() => Engine.Checkpoints.Save("r", "last", 2, s =>
        {
            s.Write(Bytes(5 * 1024 * 1024, 5));
            throw new IOException("disk gone");
        }));

        Assert.Equal(1, Engine.Checkpoints.Find("r", "last")!.Epoch);
        using (var s = Engine.Checkpoints.OpenRead("r", "last")!) Assert.Equal(old, ReadAll(s));
        Assert.Equal(0, Engine.Checkpoints.RemoveOrphans());
    }

    [Fact]
    public void Import_OverTheLimit_ThrowsAndStoresNothing()
    {
        using var big = new MemoryStream(Bytes(5000, 6));
        Assert.Throws<InvalidDataException>(() => Engine.Checkpoints.Import("r", "last", 1, big, maxBytes: 4096));
        Assert.Null(Engine.Checkpoints.Find("r", "last"));

        using var small = new MemoryStream(Bytes(4096, 7));
        Engine.Checkpoints.Import("r", "last", 1, small, maxBytes: 4096);
        using var s = Engine.Checkpoints.OpenRead("r", "last")!;
        Assert.Equal(Bytes(4096, 7), ReadAll(s));
    }

    [Fact]
    public void List_TwoKinds_ByKindAndDeletedWithTheRun()
    {
        Engine.Runs.Insert(new RunRecord { Id = "r", Name = "r", CreatedAt = At(0) });
        Engine.Checkpoints.Save("r", "last", 2, s => s.Write(Bytes(10, 8)));
        Engine.Checkpoints.Save("r", "best", 1, s => s.Write(Bytes(10, 9)));
        Engine.Checkpoints.Save("other", "last", 1, s => s.Write(Bytes(10, 9)));

        Assert.Equal(["best", "last"], Engine.Checkpoints.List("r").Select(c => c.Kind));

        Assert.True(Engine.Runs.Delete("r"));
        Assert.Empty(Engine.Checkpoints.List("r"));
        Assert.Null(Engine.Checkpoints.OpenRead("r", "last"));
        Assert.Single(Engine.Checkpoints.List("other"));
        Assert.Equal(0, Engine.Checkpoints.RemoveOrphans());
    }
}

public sealed class CheckpointStoreContractTests_LiteDb : CheckpointStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class CheckpointStoreContractTests_Cluster(PostgresServerFixture server) : CheckpointStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();

    [Fact]
    public async Task PostgresRestart_BetweenSaveAndOpen_StoreRecoversWithoutTheCallerRetrying()
    {
        var bytes = Bytes(6 * 1024 * 1024, 10);
        Engine.Checkpoints.Save("r", "last", 1, s => s.Write(bytes));
        Assert.NotNull(Engine.Checkpoints.Find("r", "last"));

        await server.Servers.RestartPostgresAsync();

        using (var s = Engine.Checkpoints.OpenRead("r", "last")!) Assert.Equal(bytes, ReadAll(s));
        Engine.Checkpoints.Save("r", "last", 2, s => s.Write(bytes.AsSpan(0, 100)));
        Assert.Equal(2, Engine.Checkpoints.Find("r", "last")!.Epoch);
    }
}
