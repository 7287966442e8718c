using System.Text;
using MedZoo.Engine.Training;
using MedZoo.Engine.Training.TensorBoard;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Training;

public class TensorBoardTests
{
    [Fact]
    public void Crc32C_StandardCheckValue()
    {
        // The CRC-32C check value of "123456789" (RFC 3720, appendix B.4).
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Writer_ScalarsRoundTripThroughReader()
    {
        using var dir = TestPaths.NewTempFolder();
        string path;
        using (var w = new TensorBoardEventWriter(dir.Path))
        {
            path = w.FilePath;
            w.AddScalar("train/loss", 0.75, 1);
            w.AddScalar("val/GM", 0.5, 300);
            w.AddScalar("train/loss", 0.25, 1L << 40);
        }
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(path));
        var events = TensorBoardEventReader.Read(path);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal([1L, 300L, 1L << 40], events.Skip(1).Select(e => e.Step));
        Assert.Equal(["train/loss", "val/GM", "train/loss"], events.Skip(1).Select(e => e.Scalars.Single().Tag));
        Assert.Equal([0.75f, 0.5f, 0.25f], events.Skip(1).Select(e => e.Scalars.Single().Value));
        Assert.All(events, e => Assert.InRange(e.WallTime, 1.6e9, 1e10));
    }

    [Fact]
    public void Reader_CorruptedPayload_FailsChecksum()
    {
        using var dir = TestPaths.NewTempFolder();
        string path;
        using (var w = new TensorBoardEventWriter(dir.Path))
        {
            path = w.FilePath;
            w.AddScalar("train/loss", 1, 1);
        }
        var bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => TensorBoardEventReader.Read(path));
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public void Observer_WritesMedicalZooTags()
    {
        using var dir = TestPaths.NewTempFolder();
        using (var tb = new TensorBoardObserver(dir.Path, "run1"))
        {
            tb.OnEvent(new RunStarted
            {
                RunId = "run1", Model = "UNET3D", Dataset = "synthetic", Device = "cpu", ClassNames = ["Background", "CSF", "GM"],
                Modalities = ["T1"], Epochs = 1, StepsPerEpoch = 1, Parameters = 10,
            });
            tb.OnEvent(new StepCompleted { RunId = "run1", Epoch = 1, Step = 1, StepsPerEpoch = 1, GlobalStep = 1, Loss = 0.9, LearningRate = 0.01, Dice = [0.9, 0.2, 0.3] });
            tb.OnEvent(new EpochCompleted
            {
                RunId = "run1", Epoch = 1, Epochs = 1, TrainLoss = 0.9, TrainDice = [0.9, 0.2, 0.3], LearningRate = 0.01, Seconds = 1,
                ValidationLoss = 0.8, MeanForegroundDice = 0.5,
                Validation = [new ClassMetrics("Background", 0.95, 0.9, 0.9, 0.9, 1, 0.5), new ClassMetrics("CSF", 0.4, 0.3, 0.3, 0.3, 2, 1), new ClassMetrics("GM", 0.6, 0.5, 0.5, 0.5, double.NaN, double.NaN)],
            });
        }
        var run = Path.Combine(dir.Path, "run1");
        var main = Scalars(run);
        Assert.Contains(("train/loss", 1L, 0.9f), main);
        Assert.Contains(("train/GM", 1L, 0.3f), main);
        Assert.Contains(("val/CSF", 1L, 0.4f), main);
        Assert.Contains(("val/mean_foreground_dice", 1L, 0.5f), main);
        Assert.Contains(("val/HD95/CSF", 1L, 2f), main);
        Assert.DoesNotContain(main, s => s.Tag == "val/HD95/GM");
        Assert.Equal([("DSC/", 1L, 50f)], Scalars(Path.Combine(run, "DSC__val")));
        Assert.Equal([("DSC/", 1L, 25f)], Scalars(Path.Combine(run, "DSC__train")));
        Assert.Equal([("Loss/", 1L, 0.8f)], Scalars(Path.Combine(run, "Loss__val")));
        Assert.Equal([("GM", 1L, 0.6f)], Scalars(Path.Combine(run, "GM_val")));
    }

    private static List<(string Tag, long Step, float Value)> Scalars(string directory)
    {
        var file = Directory.GetFiles(directory, "events.out.tfevents.*").Single();
        return TensorBoardEventReader.Read(file).SelectMany(e => e.Scalars.Select(s => (s.Tag, e.Step, s.Value))).ToList();
    }
}
