using MedZoo.Engine.Data;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Data.Datasets;

public class MRBrainS2018DatasetTests
{
    private static readonly SpatialSize Size = new(6, 16, 16); // thick slices, like the 48 × 240 × 240 originals
    private static readonly int[] Raw = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

    private static string WriteLayout(string root, params string[] subjects)
    {
        var training = Path.Combine(root, "training");
        var marker = 1;
        foreach (var id in subjects)
        {
            var (label, image) = LayoutWriter.Pattern(Size, Raw, marker++);
            var folder = Path.Combine(training, id);
            LayoutWriter.Nifti(Path.Combine(folder, "pre", "reg_T1.nii.gz"), image(0), Size, spacing: 0.958);
            LayoutWriter.Nifti(Path.Combine(folder, "pre", "reg_IR.nii.gz"), image(1), Size, spacing: 0.958);
            LayoutWriter.Nifti(Path.Combine(folder, "pre", "FLAIR.nii.gz"), image(2), Size, spacing: 0.958);
            LayoutWriter.Nifti(Path.Combine(folder, "segm.nii.gz"), label, Size, spacing: 0.958);
            // The archives also hold the unregistered scans; they are not read.
            LayoutWriter.Nifti(Path.Combine(folder, "pre", "T1.nii.gz"), new float[8], new SpatialSize(2, 2, 2));
            LayoutWriter.Nifti(Path.Combine(folder, "orig", "FLAIR.nii.gz"), new float[8], new SpatialSize(2, 2, 2));
        }
        return training;
    }

    [Fact]
    public void Load_NineClasses_NamesAsTheChallengeAndDropsInfarctionAndOther()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteLayout(dir.Path, "1", "4", "070", "148");
        var reader = new CountingVolumeReader(VolumeFileReader.Instance);
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "mrbrains2018", Path = dir.Path, Normalization = "none", Split = 1 }, reader);
        Assert.Equal(["1", "4", "070", "148"], ds.Subjects.Select(s => s.Id));
        Assert.Equal(["T1", "IR", "FLAIR"], ds.Modalities);
        Assert.Equal(["background", "cortical grey matter", "basal ganglia", "white matter", "white matter lesions",
                      "cerebrospinal fluid in the extracerebral space", "ventricles", "cerebellum", "brain stem"], ds.ClassNames);
        Assert.Equal(16, reader.TotalReads); // 4 files per subject; pre/T1.nii.gz and orig/ are never opened
        var s = ds.Subjects[0];
        for (var i = 0; i < s.Label!.Length; i++)
        {
            var raw = (int)s.Images[0][i] % 100 - 1; // the pattern's raw label at this voxel
            Assert.Equal(raw is 9 or 10 ? 0 : raw, s.Label[i]);
        }
        Assert.Equal(0.958, s.Geometry.Spacing[0], 3);
    }

    [Fact]
    public void Load_FourClassGrouping_MergesAsTheChallengePrescribes()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteLayout(dir.Path, "1", "5");
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "mrbrains4", Path = Path.Combine(dir.Path, "training"), Normalization = "none", Split = 1 });
        Assert.Equal("mrbrains2018_4", ds.Name);
        Assert.Equal(["background", "grey matter", "white matter", "cerebrospinal fluid"], ds.ClassNames);
        int[] expected = [0, 1, 1, 2, 2, 3, 3, 0, 0, 0, 0];
        var s = ds.Subjects[1];
        for (var i = 0; i < s.Label!.Length; i++) Assert.Equal(expected[(int)s.Images[0][i] % 100 - 1], s.Label[i]);
    }

    [Fact]
    public void Load_MissingModalityAndLabel_NameSubjectAndFile()
    {
        using var dir = TestPaths.NewTempFolder();
        var training = WriteLayout(dir.Path, "1", "4", "7");
        File.Delete(Path.Combine(training, "4", "pre", "reg_IR.nii.gz"));
        File.Delete(Path.Combine(training, "7", "segm.nii.gz"));
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "mrbrains2018", Path = dir.Path }));
        Assert.Contains(e.Errors, m => m.Contains("subject '4'") && m.Contains(Path.Combine("4", "pre", "reg_IR.nii.gz")));
        Assert.Contains(e.Errors, m => m.Contains("subject '7'") && m.Contains(Path.Combine("7", "segm.nii.gz")));
    }

    [Fact]
    public void Load_GeometryMismatchBetweenModalityAndLabel_NamesFiles()
    {
        using var dir = TestPaths.NewTempFolder();
        var training = WriteLayout(dir.Path, "1", "4");
        var (label, _) = LayoutWriter.Pattern(Size, Raw, 1);
        LayoutWriter.Nifti(Path.Combine(training, "1", "segm.nii.gz"), label, Size, spacing: 0.958, originX: 5);
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "mrbrains2018", Path = dir.Path }));
        var error = Assert.Single(e.Errors);
        Assert.Contains("subject '1'", error);
        Assert.Contains("segm.nii.gz", error);
        Assert.Contains("geometry differs", error);
    }
}
