namespace MedZoo.Web.Reviews;

/// <summary>Limits of uploads and settings of review inference (configuration section <c>MedZoo:Review</c>).</summary>
public sealed class ReviewOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string Section = "MedZoo:Review";

    /// <summary>Largest upload (all files of one upload together) in bytes; default 512 MiB.</summary>
    public long MaxUploadBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Largest size along any spatial axis a header may declare; default 1024.</summary>
    public int MaxDimension { get; set; } = 1024;

    /// <summary>Most voxels (all channels) a header may declare before anything is allocated; default 128 Mi (512³).</summary>
    public long MaxVoxels { get; set; } = 512L * 512 * 512;

    /// <summary>Most channels (modalities) a multi-channel file may declare; default 16.</summary>
    public int MaxChannels { get; set; } = 16;

    /// <summary>Sliding-window overlap of review inference, 0 ≤ o &lt; 1; default 0.5.</summary>
    public double Overlap { get; set; } = 0.5;

    /// <summary>Windows per forward pass; default 4.</summary>
    public int WindowsPerBatch { get; set; } = 4;

    /// <summary>Device of review inference ("auto", "cpu", "cuda"); default auto.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (MaxUploadBytes <= 0) throw new ArgumentException($"{Section}:{nameof(MaxUploadBytes)} must be positive, got {MaxUploadBytes}");
        if (MaxDimension <= 0) throw new ArgumentException($"{Section}:{nameof(MaxDimension)} must be positive, got {MaxDimension}");
        if (MaxVoxels <= 0) throw new ArgumentException($"{Section}:{nameof(MaxVoxels)} must be positive, got {MaxVoxels}");
        if (MaxChannels <= 0) throw new ArgumentException($"{Section}:{nameof(MaxChannels)} must be positive, got {MaxChannels}");
        if (!(Overlap >= 0 && Overlap < 1)) throw new ArgumentException($"{Section}:{nameof(Overlap)} must be in [0, 1), got {Overlap}");
        if (WindowsPerBatch < 1) throw new ArgumentException($"{Section}:{nameof(WindowsPerBatch)} must be at least 1, got {WindowsPerBatch}");
    }
}
