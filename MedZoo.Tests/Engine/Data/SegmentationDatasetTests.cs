using MedZoo.Engine;
using MedZoo.Engine.Data;

namespace MedZoo.Tests.Engine.Data;

public class SegmentationDatasetTests
{
    [Fact]
    public void Load_Synthetic_SplitsAndNormalizesEverySubject()
    {
        var ds = SegmentationDataset.Load(new DatasetOptions { SyntheticSubjects = 5, SyntheticSize = [24, 24, 24], Seed = 3 });
        Assert.Equal("synthetic", ds.Name);
        Assert.Equal(["T1", "T2"], ds.Modalities);
        Assert.Equal(["background", "CSF", "grey matter", "white matter"], ds.ClassNames);
        Assert.Equal(4, ds.Training.Count);
        Assert.Single(ds.Validation);
        Assert.Empty(ds.Training.Select(s => s.Id).Intersect(ds.Validation.Select(s => s.Id)));
        foreach (var s in ds.Subjects)
        {
            // zscore_nonzero: the brain has mean 0 and σ 1, the background stays 0.
            var brain = s.Images[0].Where(v => v != 0).Select(v => (double)v).ToArray();
            Assert.InRange(brain.Average(), -1e-3, 1e-3);
            Assert.InRange(Math.Sqrt(brain.Select(v => v * v).Average()), 0.999, 1.001);
        }
    }

    [Fact]
    public void Load_SameSeed_SameSubjectsAndSplit()
    {
        var options = new DatasetOptions { SyntheticSubjects = 6, SyntheticSize = [24, 24, 24], Seed = 11, LoadThreads = 2 };
        var a = SegmentationDataset.Load(options);
        var b = SegmentationDataset.Load(options);
        Assert.Equal(a.Split, b.Split, new SplitComparer());
        for (var i = 0; i < a.Subjects.Count; i++)
        {
            Assert.Equal(a.Subjects[i].Images[1], b.Subjects[i].Images[1]);
            Assert.Equal(a.Subjects[i].Label, b.Subjects[i].Label);
        }
    }

    [Theory]
    [InlineData(10, 0.8, 8, 2)]
    [InlineData(10, 1.0, 10, 0)]
    [InlineData(2, 0.99, 1, 1)]
    [InlineData(3, 0.01, 1, 2)]
    public void ByRatio_SplitsWholeSubjects(int n, double split, int train, int validation)
    {
        var s = DatasetSplit.ByRatio(Enumerable.Range(0, n).Select(i => $"s{i}"), split, 1);
        Assert.Equal(train, s.Training.Count);
        Assert.Equal(validation, s.Validation.Count);
        Assert.Equal(n, s.Training.Concat(s.Validation).Distinct().Count());
    }

    [Fact]
    public void ByRatio_IgnoresInputOrder()
    {
        var ids = Enumerable.Range(1, 12).Select(i => $"subject-{i}").ToArray();
        Assert.Equal(DatasetSplit.ByRatio(ids, 0.75, 4), DatasetSplit.ByRatio(ids.Reverse(), 0.75, 4), new SplitComparer());
    }

    [Fact]
    public void KFold_FoldsPartitionTheSubjects()
    {
        var ids = Enumerable.Range(0, 11).Select(i => $"s{i}").ToArray();
        var validation = Enumerable.Range(0, 5).SelectMany(f => DatasetSplit.KFold(ids, 5, f, 2).Validation).ToList();
        Assert.Equal(ids.Order(), validation.Order());
        Assert.All(Enumerable.Range(0, 5), f => Assert.InRange(DatasetSplit.KFold(ids, 5, f, 2).Validation.Count, 2, 3));
    }

    [Fact]
    public void Load_ClassCountMismatch_SaysWhatTheDatasetHas()
    {
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Classes = 5, SyntheticSubjects = 2, SyntheticSize = [16, 16, 16] }));
        Assert.Contains("4 classes", e.Message);
        Assert.Contains("white matter", e.Message);
    }

    [Fact]
    public void Load_UnknownDataset_ListsValidNames()
    {
        var e = Assert.Throws<InvalidOptionException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "brats2021" }));
        foreach (var name in new[] { "synthetic", "synthetic_tumour", "iseg2017", "iseg2019", "mrbrains2018", "mrbrains2018_4", "brats2018", "brats2019", "brats2020", "decathlon", "nnunet" })
            Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Load_ModalitySubset_KeepsRequestedOrder()
    {
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "synthetic_tumour", Modalities = ["FLAIR", "t1ce"], SyntheticSubjects = 2, SyntheticSize = [24, 24, 24] });
        Assert.Equal(["flair", "t1ce"], ds.Modalities);
        Assert.All(ds.Subjects, s => Assert.Equal(2, s.Channels));
    }

    [Fact]
    public void Load_UnknownModality_ListsAvailable()
    {
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Modalities = ["T3"], SyntheticSubjects = 2, SyntheticSize = [16, 16, 16] }));
        Assert.Contains("T1, T2", e.Message);
    }

    [Fact]
    public void Load_CropToNonZero_ShrinksAndMapsBackToSourceGrid()
    {
        var ds = SegmentationDataset.Load(new DatasetOptions { SyntheticSubjects = 1, SyntheticSize = [32, 32, 32], CropToNonZero = true, Split = 1 });
        var s = ds.Subjects[0];
        Assert.True(s.Size.Voxels < 32 * 32 * 32);
        Assert.Equal(SpatialSize.Cube(32), s.SourceSize);
        var back = s.ToSourceGrid<byte>(s.Label!);
        var full = SegmentationDataset.Load(new DatasetOptions { SyntheticSubjects = 1, SyntheticSize = [32, 32, 32], Split = 1 }).Subjects[0];
        Assert.Equal(full.Label, back);
        // The cropped grid's first voxel sits where the source grid had it.
        var world = s.Geometry.VoxelToWorld(0, 0, 0);
        var source = full.Geometry.VoxelToWorld(s.CropOffset.W, s.CropOffset.H, s.CropOffset.D);
        Assert.Equal(source, world);
    }

    public static TheoryData<string, Action<DatasetOptions>> BadOptions() => new()
    {
        { "Split", o => o.Split = 0 },
        { "Folds", o => o.Folds = 1 },
        { "Fold", o => { o.Folds = 5; o.Fold = 5; } },
        { "Normalization", o => o.Normalization = "zscore" },
        { "ClipLowPercentile", o => { o.ClipLowPercentile = 50; o.ClipHighPercentile = 40; } },
        { "SyntheticSize", o => o.SyntheticSize = [8, 64, 64] },
        { "SyntheticSubjects", o => o.SyntheticSubjects = 0 },
        { "Path", o => o.Name = "iseg2017" },
        { "Modalities", o => o.Modalities = ["T1", "t1"] },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Validate_BadField_NamesIt(string field, Action<DatasetOptions> spoil)
    {
        var o = new DatasetOptions();
        spoil(o);
        var e = Assert.Throws<InvalidOptionException>(o.Validate);
        Assert.Contains(field, e.Message);
        Assert.Equal(field, e.Error.Path);
    }

    private sealed class SplitComparer : IEqualityComparer<DatasetSplit>
    {
        public bool Equals(DatasetSplit? x, DatasetSplit? y) => x!.Training.SequenceEqual(y!.Training) && x.Validation.SequenceEqual(y.Validation);
        public int GetHashCode(DatasetSplit obj) => 0;
    }
}
