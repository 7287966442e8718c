namespace MedZoo.Engine.IO;

/// <summary>The on-disk formats <see cref="VolumeIO"/> reads (and, except Analyze, writes).</summary>
public enum VolumeFileFormat
{
    /// <summary>NIfTI-1: .nii, .nii.gz, .hdr+.img pairs (348-byte header).</summary>
    Nifti1,
    /// <summary>NIfTI-2: the same files with a 540-byte header and 64-bit dims/doubles.</summary>
    Nifti2,
    /// <summary>Analyze 7.5 .hdr+.img (read only), with SPM2's origin and scale-factor extensions.</summary>
    Analyze,
    /// <summary>MetaImage (ITK): .mha with local data, .mhd with a separate raw/zraw file.</summary>
    MetaImage,
}

/// <summary>Names of <see cref="VolumeFileFormat"/> as `inspect --json` reports them.</summary>
public static class VolumeFileFormats
{
    /// <summary>"nifti1", "nifti2", "analyze" or "metaimage".</summary>
    public static string Name(this VolumeFileFormat format) => format switch
    {
        VolumeFileFormat.Nifti1 => "nifti1",
        VolumeFileFormat.Nifti2 => "nifti2",
        VolumeFileFormat.Analyze => "analyze",
        VolumeFileFormat.MetaImage => "metaimage",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };
}
