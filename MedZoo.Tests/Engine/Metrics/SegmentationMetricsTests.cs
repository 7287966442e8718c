using MedZoo.Engine.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Metrics;

public class SegmentationMetricsTests
{
    // Twelve voxels along W (2 mm; D and H spacing 5 and 7 mm, so a voxel is 70 mm³).
    //            index: 0  1  2  3  4  5  6  7  8  9 10 11
    private static readonly byte[] HandTruth = [0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 2];
    private static readonly byte[] HandPrediction = [4, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0];
    private static readonly VolumeShape HandShape = new(1, 1, 12);
    private static readonly VoxelSpacing HandSpacing = new(5, 7, 2);

    [Fact]
    public void Add_HandCase_ScoresOverlappingClass()
    {
        var scores = new SegmentationMetrics(5).Add(HandPrediction, HandTruth, HandShape, HandSpacing, "hand");
        var c = scores.Classes[1];
        Assert.Equal(ClassPresence.Both, c.Presence);
        Assert.Equal(0.4, c.Dice, 12);        // 2·2 / (6 + 4)
        Assert.Equal(0.25, c.Iou, 12);        // 2 / 8
        Assert.Equal(1.0 / 3, c.Precision, 12);
        Assert.Equal(0.5, c.Recall, 12);
        // Every voxel of a 1×1×12 volume is surface. Prediction→truth: 0 0 2 4 6 8 mm, P95 = 7.5;
        // truth→prediction: 4 2 0 0 mm, P95 = 3.7. ASSD = 26 / 10.
        Assert.Equal(7.5, c.Hd95, 12);
        Assert.Equal(2.6, c.Assd, 12);
        Assert.Equal(4 * 70.0, c.GroundTruthVolumeMm3, 9);
        Assert.Equal(6 * 70.0, c.PredictedVolumeMm3, 9);
        Assert.Equal("hand", scores.Id);
    }

    [Fact]
    public void Add_HandCase_AppliesTheEmptyClassRule()
    {
        var scores = new SegmentationMetrics(5).Add<byte>(HandPrediction, HandTruth, HandShape, HandSpacing);

        var missed = scores.Classes[2];
        Assert.Equal(ClassPresence.GroundTruthOnly, missed.Presence);
        Assert.Equal((0.0, 0.0, 0.0), (missed.Dice, missed.Iou, missed.Recall));
        Assert.True(double.IsNaN(missed.Precision) && double.IsNaN(missed.Hd95) && double.IsNaN(missed.Assd));

        var absent = scores.Classes[3];
        Assert.Equal(ClassPresence.Neither, absent.Presence);
        Assert.False(absent.IsScored);
        Assert.All(new[] { absent.Dice, absent.Iou, absent.Precision, absent.Recall, absent.Hd95, absent.Assd }, v => Assert.True(double.IsNaN(v)));

        var falseAlarm = scores.Classes[4];
        Assert.Equal(ClassPresence.PredictionOnly, falseAlarm.Presence);
        Assert.Equal((0.0, 0.0), (falseAlarm.Dice, falseAlarm.Precision));
        Assert.True(double.IsNaN(falseAlarm.Recall) && double.IsNaN(falseAlarm.Hd95));

        var background = scores.Classes[0];
        Assert.Equal(1.0 / 3, background.Dice, 12); // truth 7 voxels, prediction 5, both at 1 and 10
        Assert.True(double.IsNaN(background.Hd95), "background distances are off by default");

        // Foreground means skip class 3 (absent) and undefined distances.
        Assert.Equal(0.4 / 3, scores.MeanForegroundDice, 12);
        Assert.Equal(7.5, scores.MeanForegroundHd95, 12);
    }

    [Theory]
    [InlineData(2, 2, 4, 1.0)]                  // two voxels along W at 0.5 mm
    [InlineData(4, 2, 2, 6.0)]                  // two voxels along D at 3 mm
    [InlineData(2, 3, 3, 1.1180339887498949)]   // √(1² + 0.5²)
    public void Add_SingleVoxelsAnisotropic_DistanceInMillimetres(int d, int h, int w, double expected)
    {
        var shape = new VolumeShape(5, 5, 5);
        var truth = new int[shape.VoxelCount];
        var prediction = new int[shape.VoxelCount];
        truth[shape.IndexOf(2, 2, 2)] = 1;
        prediction[shape.IndexOf(d, h, w)] = 1;
        var c = new SegmentationMetrics(2).Add<int>(prediction, truth, shape, new VoxelSpacing(3, 1, 0.5)).Classes[1];
        Assert.Equal(0, c.Dice);
        Assert.Equal(expected, c.Hd95, 12);
        Assert.Equal(expected, c.Assd, 12);
    }

    [Fact]
    public void Add_ShiftedCube_MatchesHandValues()
    {
        var shape = new VolumeShape(7, 7, 7);
        var truth = SurfaceDistanceTests.Cube(shape, 2, 3).Select(b => b ? (byte)1 : (byte)0).ToArray();
        var prediction = SurfaceDistanceTests.Cube(shape, 2, 3, shiftW: 1).Select(b => b ? (byte)1 : (byte)0).ToArray();
        var c = new SegmentationMetrics(2).Add<byte>(prediction, truth, shape, VoxelSpacing.Isotropic()).Classes[1];
        Assert.Equal(2.0 / 3, c.Dice, 12);
        Assert.Equal(1, c.Hd95, 12);
        Assert.Equal(20.0 / 52, c.Assd, 12);
        var same = new SegmentationMetrics(2).Add<byte>(truth, truth, shape, VoxelSpacing.Isotropic()).Classes[1];
        Assert.Equal((1.0, 0.0, 0.0), (same.Dice, same.Hd95, same.Assd));
    }

    [Fact]
    public void Aggregate_TwoSubjects_AveragesDefinedValuesAndCounts()
    {
        var metrics = new SegmentationMetrics(5, ["bg", "a", "b", "c", "d"]);
        metrics.Add<byte>(HandPrediction, HandTruth, HandShape, HandSpacing, "first");
        metrics.Add<byte>(HandTruth, HandTruth, HandShape, HandSpacing, "second"); // perfect
        var summary = metrics.Aggregate();

        Assert.Equal(2, summary.Subjects.Count);
        var a = summary.Classes[1];
        Assert.Equal("a", a.Name);
        Assert.Equal((0.4 + 1) / 2, a.Dice, 12);
        Assert.Equal((7.5 + 0) / 2, a.Hd95, 12);
        Assert.Equal(2, a.ScoredSubjects);
        Assert.Equal(5 * 70.0, a.MeanPredictedVolumeMm3, 9);

        var b = summary.Classes[2]; // missed in the first subject, perfect in the second
        Assert.Equal(0.5, b.Dice, 12);
        Assert.Equal(0, b.Hd95, 12);
        Assert.Equal(1, b.UndefinedDistanceSubjects);

        var c = summary.Classes[3]; // absent everywhere: never scored
        Assert.True(double.IsNaN(c.Dice));
        Assert.Equal((0, 2), (c.ScoredSubjects, c.AbsentSubjects));

        var d = summary.Classes[4]; // false alarm in the first subject only
        Assert.Equal(0, d.Dice);
        Assert.Equal((1, 1), (d.ScoredSubjects, d.AbsentSubjects));

        Assert.Equal((0.7 + 0.5 + 0) / 3, summary.MeanForegroundDice, 12);
        Assert.Equal((3.75 + 0) / 2, summary.MeanForegroundHd95, 12);

        metrics.Reset();
        Assert.Equal(0, metrics.Count);
        Assert.Empty(metrics.Aggregate().Subjects);
    }

    [Fact]
    public void Add_Tensors_EqualsTheArrayPath()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var logits = randn([2, 3, 4, 5, 6], generator: generator);
        var labels = randint(0, 3, [2, 4, 5, 6], generator: generator);
        var oneHot = nn.functional.one_hot(labels, 3).permute(0, 4, 1, 2, 3).to(ScalarType.Float32);
        var spacing = new VoxelSpacing(2, 1, 0.7);

        var fromTensors = new SegmentationMetrics(3).Add(logits, oneHot, spacing, ["x", "y"]);
        var predicted = logits.argmax(1).to(ScalarType.Int32).data<int>().ToArray();
        var truth = labels.to(ScalarType.Int32).data<int>().ToArray();
        var shape = new VolumeShape(4, 5, 6);
        for (var b = 0; b < 2; b++)
        {
            var fromArrays = new SegmentationMetrics(3).Add<int>(predicted.AsSpan(b * 120, 120), truth.AsSpan(b * 120, 120), shape, spacing);
            Assert.Equal(new[] { "x", "y" }[b], fromTensors[b].Id);
            Assert.Equal(fromArrays.Classes.Select(c => (c.Dice, c.Hd95, c.Assd)), fromTensors[b].Classes.Select(c => (c.Dice, c.Hd95, c.Assd)));
        }
        // Label tensors with a channel dimension are accepted too.
        var fromLabels = new SegmentationMetrics(3).Add(logits.argmax(1).unsqueeze(1), labels, spacing);
        Assert.Equal(fromTensors[0].Classes.Select(c => c.Dice), fromLabels[0].Classes.Select(c => c.Dice));
    }

    [Fact]
    public void Add_Tensors_LeavesNoTensorBehind()
    {
        var generator = new Generator(8);
        using var logits = randn([2, 3, 4, 5, 6], generator: generator);
        using var labels = randint(0, 3, [2, 4, 5, 6], generator: generator);
        var metrics = new SegmentationMetrics(3);
        metrics.Add(logits, labels, VoxelSpacing.Isotropic());
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 20; i++)
            metrics.Add(logits, labels, VoxelSpacing.Isotropic());
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(42, metrics.Count);
    }

    [Fact]
    public void Add_LabelOutOfRange_ThrowsNamingTheLabel()
    {
        var truth = (byte[])HandTruth.Clone();
        truth[3] = 9;
        var e = Assert.Throws<ArgumentException>(() => new SegmentationMetrics(5).Add<byte>(HandPrediction, truth, HandShape, HandSpacing));
        Assert.Contains("label 9", e.Message);
        Assert.Contains("groundTruth", e.Message);
    }

    [Fact]
    public void Add_WrongLength_ThrowsWithTheShape()
    {
        var e = Assert.Throws<ArgumentException>(() => new SegmentationMetrics(5).Add<byte>(HandPrediction, HandTruth, new VolumeShape(1, 2, 12), HandSpacing));
        Assert.Contains("(1, 2, 12)", e.Message);
    }

    [Fact]
    public void Add_SurfaceDistancesOff_LeavesThemNaN()
    {
        var metrics = new SegmentationMetrics(5, options: new SegmentationMetricsOptions { SurfaceDistances = false });
        var c = metrics.Add<byte>(HandPrediction, HandTruth, HandShape, HandSpacing).Classes[1];
        Assert.Equal(0.4, c.Dice, 12);
        Assert.True(double.IsNaN(c.Hd95) && double.IsNaN(c.Assd));
    }

    [Fact]
    public void Add_BackgroundDistancesOn_ComputesThem()
    {
        var metrics = new SegmentationMetrics(5, options: new SegmentationMetricsOptions { BackgroundSurfaceDistances = true, HausdorffPercentile = 100 });
        var background = metrics.Add<byte>(HandPrediction, HandTruth, HandShape, HandSpacing).Classes[0];
        // Truth background {0,1,6..10}, predicted {1,2,3,10,11}: truth voxels 6 and 7 are 3 voxels (6 mm)
        // from the nearest predicted background voxel (3 and 10); no predicted voxel is farther from truth.
        Assert.Equal(6, background.Hd95, 12);
    }

    [Fact]
    public void ClassVolumesMm3_CountsTimesVoxelVolume()
    {
        Assert.Equal(new[] { 7 * 70.0, 4 * 70.0, 70.0 }, SegmentationMetrics.ClassVolumesMm3<byte>(HandTruth, 3, HandSpacing));
    }

    [Theory]
    [InlineData(1, null)]
    [InlineData(3, new[] { "bg", "a" })]
    public void Constructor_BadClasses_Throws(int classes, string[]? names)
    {
        Assert.ThrowsAny<ArgumentException>(() => new SegmentationMetrics(classes, names));
    }

    [Fact]
    public void Options_BadPercentile_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => new SegmentationMetrics(2, options: new SegmentationMetricsOptions { HausdorffPercentile = 101 }));
        Assert.Contains("HausdorffPercentile", e.Message);
    }
}
