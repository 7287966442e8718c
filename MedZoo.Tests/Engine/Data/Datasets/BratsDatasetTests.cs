using MedZoo.Engine.Data;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Data.Datasets;

public class BratsDatasetTests
{
    private static readonly SpatialSize Size = new(10, 12, 12);
    private static readonly int[] Raw = [0, 1, 2, 4];
    private static readonly string[] Modalities = ["t1", "t1ce", "t2", "flair"];

    private static void WriteSubject(string folder, int marker, string? segName = null, string ext = ".nii.gz")
    {
        var id = Path.GetFileName(folder);
        var (label, image) = LayoutWriter.Pattern(Size, Raw, marker);
        for (var m = 0; m < Modalities.Length; m++)
            LayoutWriter.Nifti(Path.Combine(folder, $"{id}_{Modalities[m]}{ext}"), image(m), Size);
        LayoutWriter.Nifti(Path.Combine(folder, segName ?? $"{id}_seg{ext}"), label.Select(v => (short)v).ToArray(), Size);
    }

    [Theory]
    [InlineData(2018, "MICCAI_BraTS_2018_Data_Training", "Brats18_2013_10_1", "Brats18_TCIA10_103_1")]
    [InlineData(2019, "MICCAI_BraTS_2019_Data_Training", "BraTS19_2013_10_1", "BraTS19_TCIA10_103_1")]
    public void Load_HggLggLayout_MapsLabelsAndKeepsGrades(int year, string root, string hgg, string lgg)
    {
        using var dir = TestPaths.NewTempFolder();
        WriteSubject(Path.Combine(dir.Path, root, "HGG", hgg), 1);
        WriteSubject(Path.Combine(dir.Path, root, "LGG", lgg), 2);
        File.WriteAllText(Path.Combine(dir.Path, root, "survival_data.csv"), "BraTS18ID,Age,Survival\n");
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = $"brats{year}", Path = dir.Path, Normalization = "none", Split = 1 });
        Assert.Equal(["t1", "t1ce", "t2", "flair"], ds.Modalities);
        Assert.Equal(["background", "necrotic and non-enhancing tumour core (NCR/NET)", "peritumoral oedema (ED)", "GD-enhancing tumour (ET)"], ds.ClassNames);
        Assert.Equal("HGG", ds[hgg].Group);
        Assert.Equal("LGG", ds[lgg].Group);
        var s = ds[lgg];
        for (var i = 0; i < s.Label!.Length; i++)
        {
            Assert.Equal(2000 + s.Label[i] + 1, s.Images[0][i]);     // label 4 → class 3, next to raw index 3
            Assert.Equal(2000 + 300 + s.Label[i] + 1, s.Images[3][i]); // flair is the 4th modality
        }
    }

    [Fact]
    public void Load_2020FlatLayout_AcceptsTheKnownMisnamedSegmentation()
    {
        using var dir = TestPaths.NewTempFolder();
        var root = Path.Combine(dir.Path, "MICCAI_BraTS2020_TrainingData");
        WriteSubject(Path.Combine(root, "BraTS20_Training_001"), 1);
        WriteSubject(Path.Combine(root, "BraTS20_Training_355"), 2, segName: "W39_1998.09.19_Segm.nii", ext: ".nii");
        File.WriteAllText(Path.Combine(root, "name_mapping.csv"), "Grade,BraTS_2020_subject_ID\n");
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "brats2020", Path = dir.Path, Split = 1 });
        Assert.Equal(["BraTS20_Training_001", "BraTS20_Training_355"], ds.Subjects.Select(s => s.Id));
        Assert.Null(ds.Subjects[0].Group);
        Assert.Contains(ds.Warnings, w => w.Contains("W39_1998.09.19_Segm.nii"));
        Assert.All(ds.Subjects, s => Assert.Equal(4, s.LabelCounts().Count(n => n > 0)));
    }

    [Fact]
    public void Load_Label3_IsOutsideTheBratsMapping()
    {
        using var dir = TestPaths.NewTempFolder();
        var folder = Path.Combine(dir.Path, "BraTS20_Training_002");
        WriteSubject(folder, 1);
        var (label, _) = LayoutWriter.Pattern(Size, [0, 1, 2, 3], 1);
        LayoutWriter.Nifti(Path.Combine(folder, "BraTS20_Training_002_seg.nii.gz"), label, Size);
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "brats2020", Path = dir.Path }));
        Assert.Contains("subject 'BraTS20_Training_002'", e.Message);
        Assert.Contains("_seg.nii.gz", e.Message);
        Assert.Contains("{0, 1, 2, 4}: 3 (", e.Message);
    }

    [Fact]
    public void Load_ExtraAndMissingFiles_NameSubjectAndFile()
    {
        using var dir = TestPaths.NewTempFolder();
        var a = Path.Combine(dir.Path, "HGG", "Brats18_A_1");
        var b = Path.Combine(dir.Path, "LGG", "Brats18_B_1");
        WriteSubject(a, 1);
        WriteSubject(b, 2);
        File.Copy(Path.Combine(a, "Brats18_A_1_t1.nii.gz"), Path.Combine(a, "Brats18_A_1_t1_copy.nii.gz"));
        File.Delete(Path.Combine(b, "Brats18_B_1_t1ce.nii.gz"));
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "brats2018", Path = dir.Path }));
        Assert.Contains(e.Errors, m => m.Contains("subject 'Brats18_A_1'") && m.Contains("unexpected file") && m.Contains("Brats18_A_1_t1_copy.nii.gz"));
        Assert.Contains(e.Errors, m => m.Contains("subject 'Brats18_B_1'") && m.Contains("Brats18_B_1_t1ce.nii.gz"));
    }

    [Fact]
    public void Load_ModalitySubset_ReadsOnlyThoseFiles()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteSubject(Path.Combine(dir.Path, "BraTS20_Training_001"), 1);
        var reader = new CountingVolumeReader(VolumeFileReader.Instance);
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "brats2020", Path = dir.Path, Modalities = ["flair", "t1ce"], Split = 1 }, reader);
        Assert.Equal(["flair", "t1ce"], ds.Modalities);
        Assert.Equal(3, reader.TotalReads);
        Assert.DoesNotContain(reader.Reads.Keys, k => k.EndsWith("_t1.nii.gz") || k.EndsWith("_t2.nii.gz"));
    }
}
