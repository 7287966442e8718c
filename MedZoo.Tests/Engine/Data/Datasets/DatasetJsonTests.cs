using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Datasets;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Data.Datasets;

public sealed class DatasetJsonTests
{
    [Theory]
    [InlineData("[1, 2]", "must hold a JSON object")]
    [InlineData("{ \"modality\": ", "is not valid JSON")]
    public void Scan_UnreadableDatasetJson_BothLayoutsSayTheSame(string text, string expected)
    {
        using var dir = TestPaths.NewTempFolder();
        File.WriteAllText(Path.Combine(dir.Path, "dataset.json"), text);
        var options = new DatasetOptions { Path = dir.Path };

        var decathlon = Assert.Single(new DecathlonDataset().Scan(options).Errors);
        var nnunet = Assert.Single(new NnUNetDataset().Scan(options).Errors);

        Assert.Contains(expected, decathlon);
        Assert.Equal(decathlon.Replace("'decathlon'", "'nnunet'", StringComparison.Ordinal), nnunet);
    }

    [Fact]
    public void TryRead_FolderWithoutDatasetJson_SaysWhatTheLayoutExpects()
    {
        using var dir = TestPaths.NewTempFolder();
        Assert.Null(DatasetJson.TryRead("decathlon", dir.Path, "dataset.json and imagesTr/", out var error));
        Assert.Contains("dataset.json and imagesTr/", error);
        Assert.Null(DatasetJson.TryRead("decathlon", null, "dataset.json", out error));
        Assert.Contains("needs a folder", error);
    }

    [Fact]
    public void IndexedNames_GapInIndices_IsAnErrorNamingTheFile()
    {
        using var dir = TestPaths.NewTempFolder();
        File.WriteAllText(Path.Combine(dir.Path, "dataset.json"), """{ "modality": { "0": "T1", "2": "T2" } }""");
        var file = DatasetJson.TryRead("nnunet", dir.Path, "", out _)!;
        var errors = new List<string>();
        Assert.Equal(["T1", "T2"], file.IndexedNames("modality", errors));
        Assert.Equal($"'{file.Path}' \"modality\" indices must be 0..1 without gaps, got 0, 2", Assert.Single(errors));
        Assert.Empty(file.IndexedNames("channel_names", errors));
        Assert.Equal($"'{file.Path}' has no \"channel_names\" object", errors[^1]);
    }

    [Theory]
    [InlineData("./imagesTr/a.nii.gz", "imagesTr/a.nii.gz")]
    [InlineData("labelsTr/b.nii.gz", "labelsTr/b.nii.gz")]
    [InlineData("../other/a.nii.gz", null)]
    [InlineData("/etc/passwd", null)]
    [InlineData("imagesTr/\0a.nii.gz", null)]
    [InlineData("", null)]
    public void Resolve_OnlyPathsInsideTheDatasetFolder(string relative, string? expected)
    {
        using var dir = TestPaths.NewTempFolder();
        File.WriteAllText(Path.Combine(dir.Path, "dataset.json"), "{}");
        var file = DatasetJson.TryRead("decathlon", dir.Path, "", out _)!;
        Assert.Equal(expected is null ? null : Path.Combine(file.Root, expected), file.Resolve(relative));
    }
}
