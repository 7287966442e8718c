using MedZoo.Engine.Data.Sampling;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data;

/// <summary>
/// One preprocessed subject held in memory: its modalities as float32 voxels (after intensity
/// clipping and normalization), its label map as class indices 0..K-1 (null when unlabeled) and
/// where it came from. Every array is C-order over <see cref="Size"/> = (D, H, W) = the file's
/// (Z, Y, X). A subject is immutable once built: samplers on several threads read it concurrently,
/// so nothing may write into <see cref="Images"/> or <see cref="Label"/>.
/// </summary>
public sealed class Subject
{
    private readonly float[][] _images;
    private readonly Lazy<SubjectVoxelIndex> _voxelIndex;

    /// <param name="id">Identifier unique within the dataset (e.g. "subject-1", "BraTS20_Training_001").</param>
    /// <param name="modalities">Modality names, one per image, in channel order.</param>
    /// <param name="images">One array of <paramref name="size"/>.Voxels values per modality; owned by the subject.</param>
    /// <param name="label">Class indices, same size; owned by the subject; null when unlabeled.</param>
    /// <param name="size">Spatial size (D, H, W).</param>
    /// <param name="geometry">Voxel-to-world mapping of voxel (0, 0, 0) of these arrays.</param>
    /// <param name="sourceFiles">Files the subject was read from (empty for generated subjects).</param>
    /// <param name="classCount">Number of classes K the label indices refer to.</param>
    /// <param name="group">Sub-collection such as BraTS's HGG/LGG; null when none.</param>
    /// <param name="sourceSize">Size of the source grid before cropping (defaults to <paramref name="size"/>).</param>
    /// <param name="cropOffset">Where voxel (0, 0, 0) lies in the source grid (D, H, W); zero when not cropped.</param>
    public Subject(string id, IReadOnlyList<string> modalities, IReadOnlyList<float[]> images, byte[]? label,
        SpatialSize size, VolumeGeometry geometry, IReadOnlyList<string> sourceFiles, int classCount,
        string? group = null, SpatialSize? sourceSize = null, (int D, int H, int W) cropOffset = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(modalities);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(sourceFiles);
        if (!size.IsValid) throw new ArgumentException($"subject '{id}': size {size} must be positive", nameof(size));
        if (images.Count == 0) throw new ArgumentException($"subject '{id}': at least one modality is required", nameof(images));
        if (modalities.Count != images.Count)
            throw new ArgumentException($"subject '{id}': {modalities.Count} modality names for {images.Count} images", nameof(modalities));
        if (classCount is < 1 or > 256)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, $"subject '{id}': class count must be 1..256");
        for (var c = 0; c < images.Count; c++)
        {
            if (images[c] is null || images[c].LongLength != size.Voxels)
                throw new ArgumentException($"subject '{id}': modality '{modalities[c]}' has {images[c]?.LongLength ?? 0} voxels, expected {size.Voxels} ({size})", nameof(images));
        }
        if (label is not null && label.LongLength != size.Voxels)
            throw new ArgumentException($"subject '{id}': label has {label.LongLength} voxels, expected {size.Voxels} ({size})", nameof(label));
        Id = id;
        Modalities = modalities.ToArray();
        _images = images.ToArray();
        Label = label;
        Size = size;
        Geometry = geometry;
        SourceFiles = sourceFiles.ToArray();
        ClassCount = classCount;
        Group = group;
        SourceSize = sourceSize ?? size;
        CropOffset = cropOffset;
        _voxelIndex = new Lazy<SubjectVoxelIndex>(() => new SubjectVoxelIndex(this), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Identifier unique within the dataset.</summary>
    public string Id { get; }

    /// <summary>Modality names in channel order.</summary>
    public IReadOnlyList<string> Modalities { get; }

    /// <summary>Per-modality voxels (float32, C-order over <see cref="Size"/>). Read only.</summary>
    public IReadOnlyList<float[]> Images => _images;

    /// <summary>Class index per voxel (0..<see cref="ClassCount"/>-1), or null when unlabeled. Read only.</summary>
    public byte[]? Label { get; }

    /// <summary>True when the subject has a label map.</summary>
    public bool HasLabel => Label is not null;

    /// <summary>Spatial size (D, H, W) of every array.</summary>
    public SpatialSize Size { get; }

    /// <summary>Number of modalities (input channels).</summary>
    public int Channels => _images.Length;

    /// <summary>Classes K, background included.</summary>
    public int ClassCount { get; }

    /// <summary>Voxel-to-world mapping of these arrays (translated when the subject was cropped).</summary>
    public VolumeGeometry Geometry { get; }

    /// <summary>Files read to build the subject (empty for synthetic subjects).</summary>
    public IReadOnlyList<string> SourceFiles { get; }

    /// <summary>Sub-collection such as HGG/LGG; null when none.</summary>
    public string? Group { get; }

    /// <summary>Size of the source grid before any cropping.</summary>
    public SpatialSize SourceSize { get; }

    /// <summary>Position of voxel (0, 0, 0) in the source grid (all zero unless cropped).</summary>
    public (int D, int H, int W) CropOffset { get; }

    /// <summary>Per-class voxel lists for label-driven samplers, built on first use (thread-safe).</summary>
    internal SubjectVoxelIndex VoxelIndex => _voxelIndex.Value;

    /// <summary>All modalities as one (C, D, H, W) C-order array (a copy), e.g. for a sliding-window pass.</summary>
    public float[] ToImageArray()
    {
        var n = checked((int)Size.Voxels);
        var result = new float[checked(n * Channels)];
        for (var c = 0; c < Channels; c++) Array.Copy(_images[c], 0, result, (long)c * n, n);
        return result;
    }

    /// <summary>Voxels per class index (length <see cref="ClassCount"/>); all zero when unlabeled.</summary>
    public long[] LabelCounts()
    {
        var counts = new long[ClassCount];
        if (Label is null) return counts;
        foreach (var v in Label) counts[v]++;
        return counts;
    }

    /// <summary>The whole subject as a batch of one (B = 1), for code that takes batches (e.g. a whole-volume validation pass).</summary>
    public PatchBatch ToBatch() =>
        new(ToImageArray(), Label is null ? null : (byte[])Label.Clone(), 1, Channels, Size,
            [new PatchOrigin(Id, 0, 0, 0)]);

    /// <summary>
    /// Places <paramref name="data"/> (C-order over <see cref="Size"/>, e.g. a predicted label map)
    /// back into the source grid (<see cref="SourceSize"/>) at <see cref="CropOffset"/>, filling the
    /// rest with <paramref name="fill"/>, so it lines up with the original files.
    /// </summary>
    public T[] ToSourceGrid<T>(ReadOnlySpan<T> data, T fill = default!) where T : unmanaged
    {
        if (data.Length != Size.Voxels)
            throw new ArgumentException($"data has {data.Length} voxels, subject '{Id}' has {Size.Voxels} ({Size})", nameof(data));
        if (SourceSize == Size) return data.ToArray();
        var result = new T[SourceSize.Voxels];
        if (!EqualityComparer<T>.Default.Equals(fill, default)) Array.Fill(result, fill);
        for (var d = 0; d < Size.D; d++)
            for (var h = 0; h < Size.H; h++)
                data.Slice(Size.Index(d, h, 0), Size.W)
                    .CopyTo(result.AsSpan(SourceSize.Index(d + CropOffset.D, h + CropOffset.H, CropOffset.W), Size.W));
        return result;
    }

    public override string ToString() => $"{Id} ({string.Join("+", Modalities)}, {Size})";
}
