using MedZoo.Engine.Data;
using MedZoo.Engine.IO;
using MedZoo.Tests.Engine.Data.Datasets;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Data;

public sealed class DatasetMemoryTests
{
    /// <summary>A Decathlon task of <paramref name="subjects"/> 4D (x, y, z, channels) subjects of 8×10×12 voxels with labels.</summary>
    internal static void WriteDecathlon(string root, int subjects = 2, int channels = 2)
    {
        var size = new SpatialSize(8, 10, 12);
        var modalities = string.Join(", ", Enumerable.Range(0, channels).Select(c => $"\"{c}\": \"M{c}\""));
        var training = string.Join(", ", Enumerable.Range(1, subjects).Select(i => $"{{ \"image\": \"./imagesTr/S_{i:000}.nii.gz\", \"label\": \"./labelsTr/S_{i:000}.nii.gz\" }}"));
        File.WriteAllText(Path.Combine(root, "dataset.json"),
            $"{{ \"name\": \"T\", \"modality\": {{ {modalities} }}, \"labels\": {{ \"0\": \"background\", \"1\": \"thing\" }}, \"numTraining\": {subjects}, \"training\": [ {training} ] }}");
        for (var i = 1; i <= subjects; i++)
        {
            var (label, image) = LayoutWriter.Pattern(size, [0, 1], i);
            LayoutWriter.Nifti(Path.Combine(root, "imagesTr", $"S_{i:000}.nii.gz"), Enumerable.Range(0, channels).SelectMany(image).ToArray(), size, channels);
            LayoutWriter.Nifti(Path.Combine(root, "labelsTr", $"S_{i:000}.nii.gz"), label, size);
        }
    }

    [Fact]
    public void Estimate_Synthetic_IsSubjectsTimesVoxelsTimesChannelBytesPlusLabel()
    {
        var o = new DatasetOptions { SyntheticSubjects = 7, SyntheticSize = [16, 20, 24], LoadThreads = 2 };
        var e = DatasetMemory.Estimate(o);
        var perSubject = 16L * 20 * 24 * (4 * 2 + 1); // T1 and T2 float32, one byte of label
        Assert.Equal(7, e.Subjects);
        Assert.Equal(2, e.Channels);
        Assert.Equal(7 * perSubject, e.HeldBytes);
        Assert.Equal(perSubject, e.LargestSubjectBytes);
        Assert.Equal(9 * perSubject, e.PeakBytes); // two loading threads each read one more subject
    }

    [Fact]
    public void Estimate_TenThousandSubjectsOf512Cubed_IsTerabytesWithoutAllocatingAnything()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = DatasetMemory.Estimate(new DatasetOptions { SyntheticSubjects = 10000, SyntheticSize = [512, 512, 512] });
        Assert.Equal(10000L * 512 * 512 * 512 * 9, e.HeldBytes);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20, "the estimate must not allocate volumes");
    }

    [Fact]
    public void Estimate_FolderDataset_ReadsOneHeaderPerSubjectAndNoVoxels()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteDecathlon(dir.Path, subjects: 3, channels: 2);
        var headers = new List<string>();
        var e = DatasetMemory.Estimate(new DatasetOptions { Name = "decathlon", Path = dir.Path, LoadThreads = 1 }, p =>
        {
            headers.Add(Path.GetFileName(p));
            return VolumeIO.ReadHeader(p);
        });
        Assert.Equal(["S_001.nii.gz", "S_002.nii.gz", "S_003.nii.gz"], headers);
        var perSubject = 8L * 10 * 12 * (4 * 2 + 1);
        Assert.Equal(3 * perSubject, e.HeldBytes);
        Assert.Equal(4 * perSubject, e.PeakBytes);
    }

    [Fact]
    public void Estimate_UnreadableHeader_NamesTheSubjectAndFile()
    {
        using var dir = TestPaths.NewTempFolder();
        WriteDecathlon(dir.Path, subjects: 2);
        File.WriteAllBytes(Path.Combine(dir.Path, "imagesTr", "S_002.nii.gz"), [1, 2, 3]);
        var e = Assert.Throws<DatasetException>(() => DatasetMemory.Estimate(new DatasetOptions { Name = "decathlon", Path = dir.Path }));
        Assert.Contains("S_002", e.Message);
    }

    [Fact]
    public void SubjectBytes_Overflow_SaturatesInsteadOfWrapping() =>
        Assert.Equal(long.MaxValue, DatasetMemory.SubjectBytes(long.MaxValue / 2, 4, labeled: true));
}
