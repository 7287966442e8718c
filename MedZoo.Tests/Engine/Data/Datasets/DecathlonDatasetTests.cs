using MedZoo.Engine.Data;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Data.Datasets;

public class DecathlonDatasetTests
{
    private static readonly SpatialSize Size = new(8, 10, 12);

    private const string Json = """
        {
          "name": "BRATS", "tensorImageSize": "4D",
          "modality": { "0": "FLAIR", "1": "T1w", "2": "t1gd" },
          "labels": { "0": "background", "1": "edema", "2": "non-enhancing tumor", "3": "enhancing tumour" },
          "numTraining": 2,
          "training": [
            { "image": "./imagesTr/BRATS_001.nii.gz", "label": "./labelsTr/BRATS_001.nii.gz" },
            { "image": "./imagesTr/BRATS_002.nii.gz", "label": "./labelsTr/BRATS_002.nii.gz" }
          ],
          "test": [ "./imagesTs/BRATS_485.nii.gz" ]
        }
        """;

    private static void WriteTask(string root, int channels = 3)
    {
        File.WriteAllText(Path.Combine(root, "dataset.json"), Json);
        foreach (var (id, marker) in new[] { ("BRATS_001", 1), ("BRATS_002", 2) })
        {
            var (label, image) = LayoutWriter.Pattern(Size, [0, 1, 2, 3], marker);
            // 4D: channels are the slowest axis, after x, y and z.
            var data = Enumerable.Range(0, channels).SelectMany(image).ToArray();
            LayoutWriter.Nifti(Path.Combine(root, "imagesTr", id + ".nii.gz"), data, Size, channels);
            LayoutWriter.Nifti(Path.Combine(root, "labelsTr", id + ".nii.gz"), label, Size);
        }
        // The Decathlon archives ship macOS resource forks next to the volumes.
        File.WriteAllBytes(Path.Combine(root, "imagesTr", "._BRATS_001.nii.gz"), [0, 5, 22]);
    }

    [Fact]
    public void Load_4DMultiModal_SplitsChannelsAndReadsEachFileOnce()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteTask(dir.Path);
        var reader = new CountingVolumeReader(VolumeFileReader.Instance);
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "decathlon", Path = dir.Path, Normalization = "none", Split = 1 }, reader);
        Assert.Equal(["FLAIR", "T1w", "t1gd"], ds.Modalities);
        Assert.Equal(["background", "edema", "non-enhancing tumor", "enhancing tumour"], ds.ClassNames);
        Assert.Equal(["BRATS_001", "BRATS_002"], ds.Subjects.Select(s => s.Id));
        Assert.Equal(4, reader.TotalReads);
        Assert.All(reader.Reads.Values, n => Assert.Equal(1, n));
        var s = ds.Subjects[1];
        for (var m = 0; m < 3; m++)
            for (var i = 0; i < s.Label!.Length; i++)
                Assert.Equal(2000 + 100 * m + s.Label[i] + 1, s.Images[m][i]);
    }

    [Fact]
    public void Load_ChannelCountDiffersFromJson_NamesFile()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteTask(dir.Path, channels: 2);
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "decathlon", Path = dir.Path }));
        Assert.Contains(e.Errors, m => m.Contains("subject 'BRATS_001'") && m.Contains("BRATS_001.nii.gz") && m.Contains("2 channel(s)") && m.Contains("lists 3 modalities"));
    }

    [Fact]
    public void Load_UnlistedAndMissingFiles_AreErrors()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteTask(dir.Path);
        File.Copy(Path.Combine(dir.Path, "labelsTr", "BRATS_001.nii.gz"), Path.Combine(dir.Path, "labelsTr", "BRATS_003.nii.gz"));
        File.Delete(Path.Combine(dir.Path, "imagesTr", "BRATS_002.nii.gz"));
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "decathlon", Path = dir.Path }));
        Assert.Contains(e.Errors, m => m.Contains("BRATS_003.nii.gz") && m.Contains("not listed"));
        Assert.Contains(e.Errors, m => m.Contains("subject 'BRATS_002'") && m.Contains("is missing"));
    }

    [Fact]
    public void Load_BadJson_SaysWhichFile()
    {
        using var dir = TestPaths.NewTempFolder();
        File.WriteAllText(Path.Combine(dir.Path, "dataset.json"), "{ \"modality\": ");
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "decathlon", Path = dir.Path }));
        Assert.Contains("dataset.json", e.Message);
        Assert.Contains("not valid JSON", e.Message);
    }

    [Theory]
    [InlineData("../outside.nii.gz", "\"image\" must be a path inside the dataset folder")]
    [InlineData("/etc/passwd", "\"image\" must be a path inside the dataset folder")]
    [InlineData("./imagesTr/a\u0000b.nii.gz", "\"image\" must be a path inside the dataset folder")]
    public void Load_ImagePathOutsideTheFolder_IsAnErrorNamingTheEntry(string image, string expected)
    {
        using var dir = TestPaths.NewTempFolder();
        WriteTask(dir.Path);
        var json = Json.Replace("./imagesTr/BRATS_002.nii.gz", System.Text.Json.JsonEncodedText.Encode(image).ToString());
        File.WriteAllText(Path.Combine(dir.Path, "dataset.json"), json);
        var e = Assert.Throws<DatasetException>(() => SegmentationDataset.Load(new DatasetOptions { Name = "decathlon", Path = dir.Path }));
        Assert.Contains(e.Errors, m => m.Contains("training entry 2") && m.Contains(expected));
    }

    [Fact]
    public void Load_NumTrainingNotANumber_IsIgnoredNotACrash()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteTask(dir.Path);
        File.WriteAllText(Path.Combine(dir.Path, "dataset.json"), Json.Replace("\"numTraining\": 2", "\"numTraining\": \"two\""));
        var ds = SegmentationDataset.Load(new DatasetOptions { Name = "decathlon", Path = dir.Path, Normalization = "none", Split = 1 });
        Assert.Equal(2, ds.Subjects.Count);
    }
}
