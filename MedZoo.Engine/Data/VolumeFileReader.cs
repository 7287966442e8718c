using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data;

/// <summary>The default <see cref="IVolumeReader"/>: the I/O layer's readers (NIfTI .nii/.nii.gz/.hdr+.img, Analyze, MetaImage).</summary>
public sealed class VolumeFileReader : IVolumeReader
{
    private VolumeFileReader() { }

    /// <summary>The shared instance (stateless, thread-safe).</summary>
    public static VolumeFileReader Instance { get; } = new();

    public Volume Read(string path) => VolumeIO.Read(path);
}
