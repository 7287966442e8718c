using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Sampling;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Data.Datasets;

public class ISegDatasetTests
{
    private static readonly SpatialSize Size = new(12, 14, 10);
    private static readonly int[] Raw = [0, 10, 150, 250];

    /// <summary>Writes subject-N-T1/-T2/-label Analyze pairs for <paramref name="subjects"/> into <paramref name="folder"/>.</summary>
    internal static void WriteSubjects(string folder, IEnumerable<int> subjects, bool labels = true)
    {
        foreach (var n in subjects)
        {
            var (label, image) = LayoutWriter.Pattern(Size, Raw, n);
            LayoutWriter.Analyze(Path.Combine(folder, $"subject-{n}-T1.hdr"), image(0).Select(v => (short)v).ToArray(), Size);
            LayoutWriter.Analyze(Path.Combine(folder, $"subject-{n}-T2.hdr"), image(1).Select(v => (short)v).ToArray(), Size);
            if (labels) LayoutWriter.Analyze(Path.Combine(folder, $"subject-{n}-label.hdr"), label, Size);
        }
    }

    [Theory]
    [InlineData("iseg2017", "iSeg-2017-Training")]
    [InlineData("iseg2019", "iSeg-2019-Training")]
    [InlineData("iseg2017", "iseg_2017/iSeg-2017-Training")]
    public void Load_ChallengeLayout_MapsLabelsAndPairsModalitiesBySubjectNumber(string name, string folder)
    {
        using var dir = TestPaths.NewTempFolder();
        var training = Path.Combine(dir.Path, folder);
        WriteSubjects(training, [1, 2, 10]); // lexical order 1, 10, 2 must not shuffle the pairing
        File.WriteAllText(Path.Combine(training, "iseg2017-list-train-samples-1024_size_64.txt"), "MedicalZoo's list file: not a volume, ignored");
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = name, Path = dir.Path, Normalization = "none", Split = 1 });

        Assert.Equal(["subject-1", "subject-2", "subject-10"], ds.Subjects.Select(s => s.Id));
        Assert.Equal(["T1", "T2"], ds.Modalities);
        Assert.Equal(["background", "CSF", "grey matter", "white matter"], ds.ClassNames);
        foreach (var s in ds.Subjects)
        {
            var marker = int.Parse(s.Id["subject-".Length..]);
            Assert.Equal(Size, s.Size);
            for (var i = 0; i < s.Label!.Length; i++)
            {
                // The image encodes subject, modality and raw class index; the label is that index mapped 0/10/150/250 → 0..3.
                Assert.Equal(1000 * marker + s.Label[i] + 1, s.Images[0][i]);
                Assert.Equal(1000 * marker + 100 + s.Label[i] + 1, s.Images[1][i]);
            }
            Assert.All(s.LabelCounts(), n => Assert.True(n > 0));
        }
    }

    [Fact]
    public void Load_ValidationFolderWithoutLabels_LoadsUnlabeled()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteSubjects(Path.Combine(dir.Path, "iSeg-2019-Validation"), [11, 12], labels: false);
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "iseg2019", Path = Path.Combine(dir.Path, "iSeg-2019-Validation"), Split = 1 });
        Assert.False(ds.IsLabeled);
        Assert.Equal(2, ds.Subjects.Count);
    }

    [Fact]
    public void Load_EveryFileReadOnceThroughTrainingAndValidation()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteSubjects(dir.Path, [1, 2, 3, 4]);
        var reader = new CountingVolumeReader(VolumeFileReader.Instance);
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "iseg2017", Path = dir.Path, Split = 0.75 }, reader);
        using (var loader = PatchLoader.ForTraining(ds, new SamplingOptions { PatchSize = [8, 8, 8], SamplesTrain = 20, Workers = 2 }, null, 1))
            for (var epoch = 0; epoch < 3; epoch++)
            {
                using var batches = loader.StartEpoch(epoch);
                Assert.Equal(10, batches.Count());
            }
        Assert.All(ds.Validation, s => Assert.NotNull(s.ToImageArray()));
        Assert.Equal(12, reader.Reads.Count);
        Assert.All(reader.Reads, kv => Assert.True(kv.Value == 1, $"{kv.Key} was read {kv.Value} times"));
    }

    [Fact]
    public void Load_MissingAndExtraFiles_NameSubjectAndFile()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteSubjects(dir.Path, [1, 2, 3]);
        File.Delete(Path.Combine(dir.Path, "subject-2-T2.img"));
        File.Delete(Path.Combine(dir.Path, "subject-3-label.hdr"));
        File.Delete(Path.Combine(dir.Path, "subject-3-label.img"));
        File.Copy(Path.Combine(dir.Path, "subject-1-T1.hdr"), Path.Combine(dir.Path, "subject-1-T3.hdr"));
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "iseg2017", Path = dir.Path }));
        Assert.Contains(e.Errors, m => m.Contains("subject 'subject-2'") && m.Contains("subject-2-T2.img"));
        Assert.Contains(e.Errors, m => m.Contains("subject 'subject-3'") && m.Contains("subject-3-label.hdr"));
        Assert.Contains(e.Errors, m => m.Contains("unexpected file") && m.Contains("subject-1-T3.hdr"));
    }

    [Fact]
    public void Load_LabelValueOutsideMapping_NamesSubjectFileAndValue()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteSubjects(dir.Path, [1, 2]);
        var (label, _) = LayoutWriter.Pattern(Size, Raw, 2);
        label[5] = 200;
        label[6] = 200;
        LayoutWriter.Analyze(Path.Combine(dir.Path, "subject-2-label.hdr"), label, Size);
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "iseg2017", Path = dir.Path }));
        var error = Assert.Single(e.Errors);
        Assert.Contains("subject 'subject-2'", error);
        Assert.Contains("subject-2-label.hdr", error);
        Assert.Contains("200 (2 voxels)", error);
    }

    [Fact]
    public void Load_ShapeMismatchBetweenModalities_NamesBothFiles()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteSubjects(dir.Path, [1, 2]);
        var other = new SpatialSize(12, 14, 9);
        LayoutWriter.Analyze(Path.Combine(dir.Path, "subject-1-T2.hdr"), new short[other.Voxels], other);
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "iseg2017", Path = dir.Path }));
        var error = Assert.Single(e.Errors);
        Assert.Contains("subject 'subject-1'", error);
        Assert.Contains("subject-1-T2.hdr", error);
        Assert.Contains("subject-1-T1.hdr", error);
        Assert.Contains("shape 10×14×12 vs 9×14×12", error);
    }

    [Fact]
    public void Load_UnreadableFile_NamesIt()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteSubjects(dir.Path, [1, 2]);
        File.WriteAllBytes(Path.Combine(dir.Path, "subject-2-T1.hdr"), [1, 2, 3]);
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "iseg2017", Path = dir.Path }));
        Assert.Contains(e.Errors, m => m.Contains("subject 'subject-2'") && m.Contains("cannot read") && m.Contains("subject-2-T1.hdr"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Load_WrongOrEmptyFolder_SaysWhatWasExpected(bool exists)
    {
        using var dir = TestPaths.NewTempFolder();
        var path = exists ? dir.Path : Path.Combine(dir.Path, "missing");
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "iseg2017", Path = path }));
        Assert.Contains(exists ? "no subjects found" : "does not exist", e.Message);
        Assert.Contains("subject-<N>-T1.hdr", e.Message);
    }

    [Fact]
    public void Load_DiskCache_SecondRunReadsNoSourceFile()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteSubjects(Path.Combine(dir.Path, "data"), [1, 2, 3]);
        var options = new DatasetOptions { Name = "iseg2017", Path = Path.Combine(dir.Path, "data"), CacheDirectory = Path.Combine(dir.Path, "cache"), Split = 1 };
        var first = SegmentationDataset.Load(options);
        var reader = new CountingVolumeReader(VolumeFileReader.Instance);
        var second = SegmentationDataset.Load(options, reader);
        Assert.Equal(0, reader.TotalReads);
        Assert.Equal(3, second.CacheHits);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(first.Subjects[i].Images[1], second.Subjects[i].Images[1]);
            Assert.Equal(first.Subjects[i].Label, second.Subjects[i].Label);
            Assert.Equal(first.Subjects[i].Geometry, second.Subjects[i].Geometry);
        }
        // Changing the preprocessing changes the key: the files are read again.
        SegmentationDataset.Load(new DatasetOptions { Name = "iseg2017", Path = options.Path, CacheDirectory = options.CacheDirectory, Normalization = "max", Split = 1 }, reader);
        Assert.Equal(9, reader.TotalReads); // 3 subjects × (T1, T2, label)
    }
}
