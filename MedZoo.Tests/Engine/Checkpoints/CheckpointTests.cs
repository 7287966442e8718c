using MedZoo.Engine.Training;
using MedZoo.Engine.Checkpoints;
using MedZoo.Tests.Engine.Training;
using MedZoo.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Checkpoints;

public class CheckpointTests
{
    private static nn.Module<Tensor, Tensor> Net() => nn.Sequential(nn.Conv3d(2, 4, 3, padding: 1), nn.ReLU(), nn.Conv3d(4, 3, 1));

    private static CheckpointHeader Header() => new()
    {
        RunId = "r1", Kind = "last", Epoch = 3, GlobalStep = 30, BestMetric = 0.8, BestEpoch = 2, Seed = 42, Optimizer = "adam",
        Model = new CheckpointModel { Name = "TEST", InChannels = 2, Classes = 3, BaseFilters = 4 },
        ClassNames = ["Background", "A", "B"], Modalities = ["T1", "T2"], PatchSize = [8, 8, 8],
        Normalization = new CheckpointNormalization { Name = "full_volume_mean" },
        History = CheckpointHistory.ToJson([new EpochCompleted { RunId = "r1", Epoch = 1, Epochs = 3, TrainLoss = 0.5, LearningRate = 0.01, Seconds = 1,
            Validation = [new ClassMetrics("A", 0.5, 0.4, 0.3, 0.2, double.NaN, double.NaN)], MeanForegroundDice = 0.5 }]),
    };

    [Fact]
    public void WriteRead_RoundTrip_SamePredictionsOptimizerAndHeader()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(1);
        var net = Net();
        var optimizer = optim.Adam(net.parameters(), 0.01);
        var x = randn([1, 2, 6, 6, 6]);
        for (var i = 0; i < 2; i++)
        {
            optimizer.zero_grad();
            net.call(x).square().mean().backward();
            optimizer.step();
        }
        using var buffer = new MemoryStream();
        Checkpoint.Write(buffer, Header(), net, optimizer);
        buffer.Position = 0;
        var checkpoint = Checkpoint.Read(buffer);

        random.manual_seed(99);
        var restored = Net();
        var restoredOptimizer = optim.Adam(restored.parameters(), 0.5);
        checkpoint.LoadModel(restored);
        checkpoint.LoadOptimizer(restoredOptimizer);
        using (no_grad())
            Assert.True(net.call(x).equal(restored.call(x)).all().item<bool>());

        // Same optimizer state: one more identical step keeps the two networks identical.
        foreach (var (n, o) in new[] { (net, (optim.Optimizer)optimizer), (restored, restoredOptimizer) })
        {
            o.zero_grad();
            n.call(x).square().mean().backward();
            o.step();
        }
        using (no_grad())
            Assert.True(net.call(x).equal(restored.call(x)).all().item<bool>());

        var h = checkpoint.Header;
        Assert.Equal(Checkpoint.CurrentFormatVersion, h.FormatVersion);
        Assert.Equal(["Background", "A", "B"], h.ClassNames);
        Assert.Equal("full_volume_mean", h.Normalization.Name);
        Assert.Equal(30, h.GlobalStep);
        Assert.True(double.IsNaN(h.Epochs().Single().Validation![0].Hd95));
    }

    [Fact]
    public void RestoreRngState_ReplaysTheSameRandomNumbers()
    {
        using var scope = NewDisposeScope();
        var net = Net();
        random.manual_seed(5);
        using var buffer = new MemoryStream();
        Checkpoint.Write(buffer, Header(), net, optimizer: null);
        var expected = rand([4]).data<float>().ToArray();
        buffer.Position = 0;
        var checkpoint = Checkpoint.Read(buffer);
        Assert.Null(checkpoint.OptimizerState);
        Assert.True(checkpoint.RestoreRngState());
        Assert.Equal(expected, rand([4]).data<float>().ToArray());
        var e = Assert.Throws<InvalidOperationException>(() => checkpoint.LoadOptimizer(optim.SGD(net.parameters(), 0.1)));
        Assert.Contains("inference-only", e.Message);
    }

    [Fact]
    public void Read_NotAZip_ThrowsInvalidData()
    {
        using var s = new MemoryStream("hello world"u8.ToArray());
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(s));
        Assert.Contains("not a MedZoo checkpoint", e.Message);
    }

    [Fact]
    public void FileStore_SaveReplacesAtomicallyAndOpens()
    {
        using var dir = TestPaths.NewTempFolder();
        var store = new FileCheckpointStore(dir.Path);
        Assert.Null(store.OpenRead("run", "last"));
        var path = store.Save("run", "last", 1, s => s.Write([1, 2, 3]));
        Assert.Equal(Path.Combine(dir.Path, "run", "last.ckpt"), path);
        store.Save("run", "last", 2, s => s.Write([4, 5]));
        using (var read = store.OpenRead("run", "last")!)
        {
            var ms = new MemoryStream();
            read.CopyTo(ms);
            Assert.Equal([4, 5], ms.ToArray());
        }
        Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "run")));
    }

    [Fact]
    public void FileStore_FailingWriter_KeepsPreviousCheckpointAndNoTemp()
    {
        using var dir = TestPaths.NewTempFolder();
        var store = new FileCheckpointStore(dir.Path, perRunFolders: false);
        store.Save("run", "best", 1, s => s.Write([7]));
        Assert.Throws<IOException>(() => store.Save("run", "best", 2, s => { s.Write([8, 8]); throw new IOException("disk full"); }));
        Assert.Equal([7], File.ReadAllBytes(Path.Combine(dir.Path, "best.ckpt")));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void FileStore_PathTraversal_Rejected()
    {
        using var dir = TestPaths.NewTempFolder();
        var store = new FileCheckpointStore(dir.Path);
        Assert.Throws<ArgumentException>(() => store.Save("../x", "last", 1, _ => { }));
    }
    [Fact]
    public void FileStore_RemoveTemporaryFiles_DeletesWhatAKilledSaveLeftAndNothingElse()
    {
        using var dir = TestPaths.NewTempFolder();
        var store = new FileCheckpointStore(dir.Path, perRunFolders: false);
        store.Save("run", "last", 1, s => s.Write([1]));
        var left = Path.Combine(dir.Path, $".last.{Guid.NewGuid():N}.tmp"); // a save killed mid-write
        File.WriteAllBytes(left, new byte[1000]);
        var other = Path.Combine(dir.Path, ".notes.tmp");
        File.WriteAllBytes(other, [1]);

        Assert.Equal(1, store.RemoveTemporaryFiles());
        Assert.False(File.Exists(left));
        Assert.True(File.Exists(other));
        Assert.Equal([1], File.ReadAllBytes(Path.Combine(dir.Path, "last.ckpt")));
    }

    [Fact]
    public void ReadHeader_WrittenCheckpoint_ReturnsTheHeader()
    {
        using var scope = NewDisposeScope();
        using var buffer = new MemoryStream();
        Checkpoint.Write(buffer, Header(), Net(), optimizer: null);
        buffer.Position = 0;
        var h = Checkpoint.ReadHeader(buffer);
        Assert.Equal("r1", h.RunId);
        Assert.Equal(3, h.Epoch);
    }

    [Fact]
    public void ReadHeader_NoWeights_ThrowsInvalidData()
    {
        using var buffer = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        using (var s = zip.CreateEntry("checkpoint.json").Open())
            System.Text.Json.JsonSerializer.Serialize(s, Header(), Checkpoint.JsonOptions);
        buffer.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(buffer));
        Assert.Contains("model.bin", e.Message);
    }
    [Fact]
    public void Trainer_EpochCompleted_ComesAfterThatEpochsCheckpointsAreStored()
    {
        using var dir = TestPaths.NewTempFolder();
        var store = new FileCheckpointStore(dir.Path, perRunFolders: false);
        var seen = new List<(int Epoch, int? Last, int? Best, bool IsBest)>();
        int? StoredEpoch(string kind)
        {
            using var s = store.OpenRead("run", kind);
            return s is null ? null : Checkpoint.ReadHeader(s).Epoch;
        }
        var observer = new RecordingObserver
        {
            // What a recorder sees when the epoch arrives: a crash now must not lose that epoch's checkpoints.
            OnEach = e => { if (e is EpochCompleted c) seen.Add((c.Epoch, StoredEpoch("last"), StoredEpoch("best"), c.IsBest)); },
        };
        using var control = new TrainingControl();
        var result = TestTrainers.With(o => new BlobData(o.Seed, steps: 2)).Run(TestTrainers.Options(epochs: 2), observer, control, store, "run");

        Assert.Equal(RunOutcome.Completed, result.Outcome);
        Assert.Equal([1, 2], seen.Select(x => x.Epoch));
        Assert.All(seen, x => Assert.Equal(x.Epoch, x.Last));
        Assert.All(seen.Where(x => x.IsBest), x => Assert.Equal(x.Epoch, x.Best));
    }

    [Fact]
    public void Build_ResNetMed3DCheckpointWithoutDepth_RebuildsDepth10ItWasTrainedWith()
    {
        // Checkpoints written while MedZoo's default was depth 10 carry no depth.
        using var skip = MedZoo.Engine.Networks.Blocks.ParameterInitialization.Skip();
        using var net = CheckpointModels.Build(new CheckpointModel { Name = "RESNETMED3D", InChannels = 2, Classes = 4 }, [16, 16, 16]);
        Assert.Equal(17_362_432, MedZoo.Engine.Networks.ModelZoo.CountParameters(net));
    }

    [Theory]
    [InlineData("RESNETMED3D", null, 18)]
    [InlineData("resnetmed3d", 34, 34)]
    [InlineData("UNET3D_CICEK", null, null)]
    [InlineData("UNET3D_CICEK", 2, 2)]
    public void RecordedDepth_NewRun_RecordsResNetMed3DsDefaultExplicitly(string model, int? asked, int? recorded) =>
        Assert.Equal(recorded, CheckpointModels.RecordedDepth(model, asked));
}
