using MedZoo.Engine.Data;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Planning;

/// <summary>
/// Applies a <see cref="DatasetPlan"/> to one grid, both ways: the way in reorients to the closest
/// RAS+ (unless the plan keeps native axes), normalizes each modality by its scheme and resamples
/// to the target spacing (nnU-Net's order: normalize, then resample); the way out resamples class
/// probabilities back to the reoriented grid (trilinear) and undoes the reorientation, so the
/// result lies exactly on the input's voxels and keeps its affine. Arrays are C-order over (D, H, W).
/// </summary>
public sealed class PlanTransform
{
    private readonly DatasetPlan _plan;
    private readonly Reorientation? _reorientation;

    /// <param name="plan">A valid plan.</param>
    /// <param name="geometry">The input grid's geometry.</param>
    /// <param name="size">The input grid's size (D, H, W).</param>
    public PlanTransform(DatasetPlan plan, VolumeGeometry geometry, SpatialSize size)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(geometry);
        _plan = plan;
        SourceGeometry = geometry;
        SourceSize = size;
        _reorientation = plan.Reorients ? Reorientation.ToCanonical(geometry, size) : null;
        OrientedGeometry = _reorientation?.Target ?? geometry;
        OrientedSize = _reorientation?.TargetSize ?? size;
        var spacing = OrientedGeometry.Spacing;
        var target = plan.TargetSpacing.Value;
        PlannedSize = Resampling.SizeAt(OrientedSize, [spacing[2], spacing[1], spacing[0]], [target[2], target[1], target[0]]);
        PlannedGeometry = Resampling.GeometryFor(OrientedGeometry, OrientedSize, PlannedSize);
    }

    /// <summary>The input grid.</summary>
    public VolumeGeometry SourceGeometry { get; }

    /// <summary>Size (D, H, W) of the input grid.</summary>
    public SpatialSize SourceSize { get; }

    /// <summary>The reoriented (not yet resampled) grid.</summary>
    public VolumeGeometry OrientedGeometry { get; }

    /// <summary>Size of the reoriented grid.</summary>
    public SpatialSize OrientedSize { get; }

    /// <summary>The grid the network sees.</summary>
    public VolumeGeometry PlannedGeometry { get; }

    /// <summary>Size of the grid the network sees.</summary>
    public SpatialSize PlannedSize { get; }

    /// <summary>Raw intensities of each modality (plan order) → normalized images on the planned grid.</summary>
    public float[][] Images(IReadOnlyList<float[]> raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (raw.Count != _plan.Intensity.Count)
            throw new ArgumentException($"the plan has {_plan.Intensity.Count} modalities ({string.Join(", ", _plan.Modalities)}), got {raw.Count} images");
        var result = new float[raw.Count][];
        for (var c = 0; c < raw.Count; c++)
        {
            var oriented = _reorientation is null ? raw[c].ToArray() : _reorientation.Apply<float>(raw[c]);
            Normalize(oriented, _plan.Intensity[c]);
            result[c] = Resampling.Image(oriented, OrientedSize, PlannedSize, _plan.ImageInterpolation.Value);
        }
        return result;
    }

    /// <summary>A label map of the input grid → the planned grid.</summary>
    public byte[] Labels(ReadOnlySpan<byte> labels, int classCount)
    {
        var oriented = _reorientation is null ? labels.ToArray() : _reorientation.Apply(labels);
        return Resampling.Labels(oriented, classCount, OrientedSize, PlannedSize, _plan.LabelInterpolation.Value);
    }

    /// <summary>Class probabilities on the planned grid (classes maps one after another) → the same on the input grid.</summary>
    public float[] ProbabilitiesToSource(ReadOnlySpan<float> probabilities, int classes)
    {
        var back = Resampling.Channels(probabilities, classes, PlannedSize, OrientedSize);
        if (_reorientation is null) return back;
        var n = checked((int)SourceSize.Voxels);
        var result = new float[back.Length];
        for (var c = 0; c < classes; c++)
            _reorientation.Invert<float>(back.AsSpan(c * n, n)).CopyTo(result, c * n);
        return result;
    }

    /// <summary>A label map of the planned grid → the input grid (nearest; for labels without probabilities).</summary>
    public byte[] LabelsToSource(ReadOnlySpan<byte> labels, int classCount)
    {
        var back = Resampling.Labels(labels, classCount, PlannedSize, OrientedSize, LabelInterpolation.Nearest);
        return _reorientation is null ? back : _reorientation.Invert<byte>(back);
    }

    /// <summary>Normalizes one modality in place as its scheme says.</summary>
    public static void Normalize(float[] image, ModalityIntensityPlan scheme)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(scheme);
        if (scheme.Scheme.Value == ModalityIntensityPlan.Ct)
        {
            var scale = scheme.Sd > 0 ? 1 / scheme.Sd : 1;
            for (var i = 0; i < image.Length; i++)
                image[i] = (float)((Math.Clamp(image[i], scheme.ClipLow, scheme.ClipHigh) - scheme.Mean) * scale);
        }
        else
        {
            Normalization.Apply(NormalizationKind.ZScoreNonZero, image);
        }
    }

    /// <summary>A raw subject preprocessed as the plan says (the subject's geometry becomes the planned grid).</summary>
    public static Subject Preprocess(RawSubject raw, DatasetPlan plan, int classCount)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(plan);
        if (!raw.Modalities.SequenceEqual(plan.Modalities, StringComparer.OrdinalIgnoreCase))
            throw new DatasetException($"subject '{raw.Id}' has modalities {string.Join(", ", raw.Modalities)} but the plan was made for {string.Join(", ", plan.Modalities)}: make a new plan for this dataset");
        var transform = new PlanTransform(plan, raw.Geometry, raw.Size);
        var images = transform.Images(raw.Images);
        var label = raw.Label is null ? null : transform.Labels(raw.Label, classCount);
        return new Subject(raw.Id, raw.Modalities, images, label, transform.PlannedSize, transform.PlannedGeometry, raw.SourceFiles, classCount, raw.Group);
    }
}
