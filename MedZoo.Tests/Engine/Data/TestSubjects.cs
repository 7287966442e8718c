using MedZoo.Engine.Data;
using MedZoo.Engine.IO;

namespace MedZoo.Tests.Engine.Data;

/// <summary>Small hand-made subjects for sampler, augmentation and loader tests.</summary>
internal static class TestSubjects
{
    /// <summary>
    /// A subject whose label is a function of its intensities: blocks of <paramref name="block"/>
    /// voxels take classes 0..K-1 in a 3D pattern; modality 0 holds the class c, modality 1 holds c².
    /// A voxel where both equal c and c² exactly (no mixing of classes) must carry label c.
    /// </summary>
    public static Subject Blocks(string id, SpatialSize size, int classes = 4, int block = 6, int seed = 0)
    {
        var n = (int)size.Voxels;
        var label = new byte[n];
        var a = new float[n];
        var b = new float[n];
        for (var d = 0; d < size.D; d++)
            for (var h = 0; h < size.H; h++)
                for (var w = 0; w < size.W; w++)
                {
                    var c = (byte)((d / block + 2 * (h / block) + 3 * (w / block) + seed) % classes);
                    var i = size.Index(d, h, w);
                    label[i] = c;
                    a[i] = c;
                    b[i] = c * c;
                }
        return new Subject(id, ["A", "B"], [a, b], label, size, VolumeGeometry.Identity, [], classes);
    }

    /// <summary>A subject with a single foreground cube of class 1 at <paramref name="origin"/> of side <paramref name="side"/> (the rest background).</summary>
    public static Subject Cube(string id, SpatialSize size, (int D, int H, int W) origin, int side, int classes = 2)
    {
        var n = (int)size.Voxels;
        var label = new byte[n];
        var img = new float[n];
        for (var d = 0; d < side; d++)
            for (var h = 0; h < side; h++)
                for (var w = 0; w < side; w++)
                {
                    var i = size.Index(origin.D + d, origin.H + h, origin.W + w);
                    label[i] = 1;
                    img[i] = 1;
                }
        return new Subject(id, ["A"], [img], label, size, VolumeGeometry.Identity, [], classes);
    }

    /// <summary>Synthetic-tissue subjects loaded through the dataset pipeline (fast, 24³–32³).</summary>
    public static SegmentationDataset Synthetic(int subjects = 4, int size = 32, int seed = 5) =>
        SegmentationDataset.Load(new DatasetOptions { SyntheticSubjects = subjects, SyntheticSize = [size, size, size], Seed = seed, Split = 0.75 });
}
