using MedZoo.Engine.Data;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Data.Datasets;

public class NnUNetDatasetTests
{
    private static readonly SpatialSize Size = new(8, 10, 10);

    private static string WriteDataset(string root, string labelsJson = "{ \"background\": 0, \"PZ\": 1, \"TZ\": 2 }", int numTraining = 3)
    {
        var folder = Path.Combine(root, "Dataset005_Prostate");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "dataset.json"),
            $$"""{ "channel_names": { "0": "T2", "1": "ADC" }, "labels": {{labelsJson}}, "numTraining": {{numTraining}}, "file_ending": ".nii.gz" }""");
        foreach (var (id, marker) in new[] { ("prostate_00", 1), ("prostate_01", 2), ("prostate_10", 3) })
        {
            var (label, image) = LayoutWriter.Pattern(Size, [0, 1, 2], marker);
            LayoutWriter.Nifti(Path.Combine(folder, "imagesTr", $"{id}_0000.nii.gz"), image(0), Size);
            LayoutWriter.Nifti(Path.Combine(folder, "imagesTr", $"{id}_0001.nii.gz"), image(1), Size);
            LayoutWriter.Nifti(Path.Combine(folder, "labelsTr", $"{id}.nii.gz"), label, Size);
        }
        return folder;
    }

    [Fact]
    public void Load_RawLayout_OneFilePerChannelAndLabelsByValue()
    {
        using var dir = TestPaths.NewTempFolder();
        var folder = WriteDataset(dir.Path);
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "nnunet", Path = folder, Normalization = "none", Split = 1 });
        Assert.Equal(["T2", "ADC"], ds.Modalities);
        Assert.Equal(["background", "PZ", "TZ"], ds.ClassNames);
        Assert.Equal(["prostate_00", "prostate_01", "prostate_10"], ds.Subjects.Select(s => s.Id));
        var s = ds["prostate_10"];
        for (var i = 0; i < s.Label!.Length; i++)
        {
            Assert.Equal(3000 + s.Label[i] + 1, s.Images[0][i]);
            Assert.Equal(3100 + s.Label[i] + 1, s.Images[1][i]);
        }
    }

    [Theory]
    [InlineData("{ \"background\": 0, \"PZ\": 1, \"TZ\": 3 }", 3, "consecutive")]
    [InlineData("{ \"background\": 0, \"whole\": [1, 2] }", 3, "region")]
    [InlineData("{ \"background\": 0, \"PZ\": 1, \"ignore\": 2 }", 3, "ignore")]
    [InlineData("{ \"background\": 0, \"PZ\": 1, \"TZ\": 2 }", 4, "numTraining 4")]
    public void Load_UnsupportedOrInconsistentJson_SaysWhy(string labels, int numTraining, string expected)
    {
        using var dir = TestPaths.NewTempFolder();
        var folder = WriteDataset(dir.Path, labels, numTraining);
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "nnunet", Path = folder }));
        Assert.Contains(expected, e.Message);
        Assert.Contains("dataset.json", e.Message);
    }

    [Fact]
    public void Load_MissingChannelAndOrphanImage_NameFiles()
    {
        using var dir = TestPaths.NewTempFolder();
        var folder = WriteDataset(dir.Path);
        File.Delete(Path.Combine(folder, "imagesTr", "prostate_01_0001.nii.gz"));
        File.Copy(Path.Combine(folder, "imagesTr", "prostate_00_0000.nii.gz"), Path.Combine(folder, "imagesTr", "prostate_99_0000.nii.gz"));
        File.Copy(Path.Combine(folder, "imagesTr", "prostate_00_0000.nii.gz"), Path.Combine(folder, "imagesTr", "prostate_00_0002.nii.gz"));
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "nnunet", Path = folder }));
        Assert.Contains(e.Errors, m => m.Contains("subject 'prostate_01'") && m.Contains("prostate_01_0001.nii.gz") && m.Contains("ADC"));
        Assert.Contains(e.Errors, m => m.Contains("prostate_99_0000.nii.gz") && m.Contains("no label file"));
        Assert.Contains(e.Errors, m => m.Contains("prostate_00_0002.nii.gz") && m.Contains("channel 2"));
    }

    [Theory]
    [InlineData("\"/../../x.nii.gz\"", "file_ending")]
    [InlineData("\"nii\"", "file_ending")]
    [InlineData("\".nii\\u0000.gz\"", "file_ending")]
    public void Load_FileEndingThatIsNotAnExtension_SaysWhy(string ending, string expected)
    {
        using var dir = TestPaths.NewTempFolder();
        var folder = WriteDataset(dir.Path);
        var json = Path.Combine(folder, "dataset.json");
        File.WriteAllText(json, File.ReadAllText(json).Replace("\".nii.gz\"", ending));
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "nnunet", Path = folder }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Load_NumTrainingNotANumber_IsIgnoredNotACrash()
    {
        using var dir = TestPaths.NewTempFolder();
        var folder = WriteDataset(dir.Path);
        var json = Path.Combine(folder, "dataset.json");
        File.WriteAllText(json, File.ReadAllText(json).Replace("\"numTraining\": 3", "\"numTraining\": [3]"));
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "nnunet", Path = folder, Normalization = "none", Split = 1 });
        Assert.Equal(3, ds.Subjects.Count);
    }
}
