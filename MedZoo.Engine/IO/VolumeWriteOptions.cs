using System.IO.Compression;

namespace MedZoo.Engine.IO;

/// <summary>
/// How <see cref="VolumeIO.Write(Volume, string, VolumeWriteOptions)"/> writes a file. The format
/// itself comes from the extension (.nii, .nii.gz, .hdr/.img, .hdr.gz, .mha, .mhd); these options
/// only choose among the variants of that format. Defaults give the most widely readable file.
/// </summary>
public sealed record VolumeWriteOptions
{
    /// <summary>Defaults: NIfTI-1 (NIfTI-2 when a dimension exceeds 32767), little-endian, MetaImage uncompressed.</summary>
    public static VolumeWriteOptions Default { get; } = new();

    /// <summary>
    /// 1 or 2 to force the NIfTI version; null (default) writes NIfTI-1 unless a dimension does not
    /// fit NIfTI-1's int16 dims, then NIfTI-2. NIfTI-1 stores the affine and the scaling in float32,
    /// so an affine that float32 cannot represent is kept exactly only through the qform (when it is
    /// a rotation with positive scales) or by NIfTI-2.
    /// </summary>
    public int? NiftiVersion { get; init; }

    /// <summary>Write header and voxels most significant byte first (NIfTI, MetaImage). Default false.</summary>
    public bool BigEndian { get; init; }

    /// <summary>MetaImage only: zlib-compress the voxels (CompressedData = True). NIfTI compresses by the .gz extension.</summary>
    public bool Compress { get; init; }

    /// <summary>Deflate effort for .gz files and compressed MetaImage. Default <see cref="CompressionLevel.Optimal"/>.</summary>
    public CompressionLevel CompressionLevel { get; init; } = CompressionLevel.Optimal;

    /// <summary>
    /// MetaImage only: store the dimensions after the third as interleaved vector components
    /// (ElementNumberOfChannels, as ITK's vector images) instead of as extra dimensions (NDims &gt; 3).
    /// </summary>
    public bool MetaImageVectorChannels { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (NiftiVersion is not (null or 1 or 2))
            throw new ArgumentException($"NiftiVersion must be 1, 2 or null (automatic), got {NiftiVersion}", nameof(NiftiVersion));
        if (!Enum.IsDefined(CompressionLevel))
            throw new ArgumentException($"CompressionLevel {(int)CompressionLevel} is not a CompressionLevel", nameof(CompressionLevel));
    }
}
