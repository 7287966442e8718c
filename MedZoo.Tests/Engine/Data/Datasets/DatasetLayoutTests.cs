using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Datasets;
using MedZoo.Engine.IO;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Data.Datasets;

/// <summary>
/// <see cref="DatasetLayout.LoadFromFiles"/> owns the volumes its reader returns (IVolumeReader's
/// contract) and disposes them once their voxels are copied, so their buffers go back to the pool.
/// </summary>
public class DatasetLayoutTests
{
    private static readonly SpatialSize Size = new(6, 7, 8);

    /// <summary>Reads through the real reader and keeps every volume it hands out, to look at afterwards.</summary>
    private sealed class KeepingReader : IVolumeReader
    {
        public List<Volume> Returned { get; } = [];

        public Volume Read(string path)
        {
            var v = VolumeFileReader.Instance.Read(path);
            Returned.Add(v);
            return v;
        }
    }

    private static SubjectSource WriteSubject(string folder, double labelSpacing = 1)
    {
        var (label, image) = LayoutWriter.Pattern(Size, [0, 1, 2], marker: 3);
        var t1 = LayoutWriter.Nifti(Path.Combine(folder, "t1.nii"), image(0), Size);
        var t2 = LayoutWriter.Nifti(Path.Combine(folder, "t2.nii.gz"), image(1), Size);
        var seg = LayoutWriter.Nifti(Path.Combine(folder, "seg.nii"), label, Size, spacing: labelSpacing);
        return new SubjectSource("s1", [new ModalityFile("T1", t1), new ModalityFile("T2", t2)], seg);
    }

    [Fact]
    public void LoadFromFiles_Read_DisposesEveryVolumeAndKeepsCopiesOfTheVoxels()
    {
        using var dir = TestPaths.NewTempFolder();
        var source = WriteSubject(dir.Path);
        var reader = new KeepingReader();
        var (expectedLabel, image) = LayoutWriter.Pattern(Size, [0, 1, 2], marker: 3);

        var raw = DatasetLayout.LoadFromFiles(source, ["T1", "T2"], LabelMapping.Identity(["a", "b", "c"]), reader);

        Assert.Equal(3, reader.Returned.Count);
        Assert.All(reader.Returned, v => Assert.True(v.IsDisposed));
        // The subject's arrays are its own: intact after the volumes gave their buffers back.
        Assert.Equal(image(0), raw.Images[0]);
        Assert.Equal(image(1), raw.Images[1]);
        Assert.Equal(expectedLabel, raw.Label);
        Assert.Equal(Size, raw.Size);
    }

    [Fact]
    public void LoadFromFiles_LabelOnAnotherGrid_ThrowsAndStillDisposesWhatItRead()
    {
        using var dir = TestPaths.NewTempFolder();
        var source = WriteSubject(dir.Path, labelSpacing: 2);
        var reader = new KeepingReader();

        var e = Assert.Throws<DatasetException>(() =>
            DatasetLayout.LoadFromFiles(source, ["T1", "T2"], LabelMapping.Identity(["a", "b", "c"]), reader));

        Assert.Contains("label file", e.Message);
        Assert.Equal(3, reader.Returned.Count);
        Assert.All(reader.Returned, v => Assert.True(v.IsDisposed));
    }
}
