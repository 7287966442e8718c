using System.Globalization;
using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Metrics;

/// <summary>Options of <see cref="SegmentationMetrics"/>.</summary>
public sealed class SegmentationMetricsOptions
{
    /// <summary>Compute HD95 and ASSD (the costly part: two distance transforms per class). Default true.</summary>
    public bool SurfaceDistances { get; set; } = true;

    /// <summary>Also compute surface distances for class 0 (usually the whole volume, rarely useful). Default false.</summary>
    public bool BackgroundSurfaceDistances { get; set; }

    /// <summary>Percentile of the Hausdorff distance, in [0, 100]; 95 gives HD95, 100 the classical Hausdorff distance.</summary>
    public double HausdorffPercentile { get; set; } = 95;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (!(HausdorffPercentile >= 0 && HausdorffPercentile <= 100))
            throw new ArgumentException($"SegmentationMetricsOptions.{nameof(HausdorffPercentile)} must be in [0, 100], got {HausdorffPercentile.ToString(CultureInfo.InvariantCulture)}", nameof(HausdorffPercentile));
    }
}

/// <summary>
/// Hard-label segmentation metrics that accumulate over subjects, then aggregate (MONAI's cumulative
/// metrics): per class Dice, IoU, precision, recall, HD95 and ASSD in millimetres (see
/// <see cref="SurfaceDistance"/> for the exact definitions), and ground-truth / predicted volumes in mm³.
/// <para>
/// Volumes are whole label maps of shape (D, H, W), C-order, with labels 0 … classes − 1 (0 =
/// background), and a <see cref="VoxelSpacing"/> in (D, H, W) order (build it from a file's (i, j, k)
/// spacing with <see cref="VoxelSpacing.FromIjk"/> or <see cref="VoxelSpacing.FromGeometry"/>).
/// </para>
/// <para>
/// <b>Empty classes</b> (the rule the losses share): a class absent from both ground truth and prediction
/// is <see cref="ClassPresence.Neither"/>: all its metrics are NaN and it is excluded from every mean (not
/// counted as Dice 1, which would inflate the means of models evaluated on subjects lacking a class). A
/// class present on one side only has Dice = IoU = 0, recall = 0 (missed) or precision = 0 (false alarm),
/// the other ratio NaN, and HD95/ASSD NaN (no surface to measure to; not a maximum distance, so the
/// distance means describe only subjects where both exist; <see cref="ClassSummary.UndefinedDistanceSubjects"/>
/// reports how many were left out). Per-class means skip NaN values; foreground means average the
/// per-class means of classes 1 … K − 1.
/// </para>
/// Thread-safe: <see cref="Add{T}"/> may be called from several threads.
/// </summary>
public sealed class SegmentationMetrics
{
    private readonly object _gate = new();
    private readonly List<SubjectScores> _subjects = [];
    private readonly string[] _names;
    private readonly SegmentationMetricsOptions _options;

    /// <param name="classes">Number of labels, background included (≥ 2).</param>
    /// <param name="classNames">Optional names (index = class); "class {i}" otherwise ("background" for 0).</param>
    /// <param name="options">Null → defaults.</param>
    public SegmentationMetrics(int classes, IReadOnlyList<string>? classNames = null, SegmentationMetricsOptions? options = null)
    {
        if (classes < 2)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "classes must count the background and at least one foreground class (>= 2)");
        if (classNames is not null && classNames.Count != classes)
            throw new ArgumentException($"classNames has {classNames.Count} name(s) but there are {classes} classes", nameof(classNames));
        _options = options ?? new SegmentationMetricsOptions();
        _options.Validate();
        Classes = classes;
        _names = classNames?.ToArray() ?? Enumerable.Range(0, classes).Select(i => i == 0 ? "background" : $"class {i}").ToArray();
    }

    /// <summary>Number of labels, background included.</summary>
    public int Classes { get; }

    /// <summary>Class names (index = class).</summary>
    public IReadOnlyList<string> ClassNames => _names;

    /// <summary>Subjects added so far.</summary>
    public int Count
    {
        get { lock (_gate) return _subjects.Count; }
    }

    /// <summary>
    /// Scores one subject's whole volume and keeps the result for <see cref="Aggregate"/>.
    /// <paramref name="prediction"/> and <paramref name="groundTruth"/> are C-order (D, H, W) label maps.
    /// Throws <see cref="ArgumentException"/> for a wrong length or a label outside 0 … classes − 1.
    /// </summary>
    /// <returns>The subject's scores (also returned by <see cref="Aggregate"/>).</returns>
    public SubjectScores Add<T>(ReadOnlySpan<T> prediction, ReadOnlySpan<T> groundTruth, VolumeShape shape, VoxelSpacing spacing, string? subjectId = null)
        where T : unmanaged, IBinaryInteger<T>
    {
        var scores = Score(prediction, groundTruth, shape, spacing, subjectId ?? "");
        lock (_gate)
        {
            if (subjectId is null)
                scores = scores with { Id = $"subject {_subjects.Count + 1}" };
            _subjects.Add(scores);
        }
        return scores;
    }

    /// <summary>
    /// Tensor convenience for the validator and the review page: scores each batch element as one subject.
    /// <paramref name="prediction"/>: logits (B, C, D, H, W) (floating point; argmax over C) or labels
    /// (B, D, H, W) / (B, 1, D, H, W) (integer). <paramref name="target"/>: labels (B, D, H, W) /
    /// (B, 1, D, H, W), or one-hot (B, C, D, H, W) with C = <see cref="Classes"/> (argmax). Tensors may be
    /// on any device; they are copied to the CPU and not modified or disposed.
    /// </summary>
    public IReadOnlyList<SubjectScores> Add(Tensor prediction, Tensor target, VoxelSpacing spacing, IReadOnlyList<string>? subjectIds = null)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        int[] predicted, truth;
        VolumeShape shape;
        long batch;
        using (NewDisposeScope())
        using (no_grad())
        {
            var p = ToLabels(prediction, nameof(prediction));
            var t = ToLabels(target, nameof(target));
            if (!p.shape.SequenceEqual(t.shape))
                throw new ArgumentException($"prediction labels ({string.Join(", ", p.shape)}) and target labels ({string.Join(", ", t.shape)}) differ in shape", nameof(target));
            batch = p.shape[0];
            shape = new VolumeShape((int)p.shape[1], (int)p.shape[2], (int)p.shape[3]);
            predicted = p.data<int>().ToArray();
            truth = t.data<int>().ToArray();
        }
        if (subjectIds is not null && subjectIds.Count != batch)
            throw new ArgumentException($"subjectIds has {subjectIds.Count} id(s) for a batch of {batch}", nameof(subjectIds));
        var results = new List<SubjectScores>((int)batch);
        var n = (int)shape.VoxelCount;
        for (var b = 0; b < batch; b++)
            results.Add(Add<int>(predicted.AsSpan(b * n, n), truth.AsSpan(b * n, n), shape, spacing, subjectIds?[b]));
        return results;
    }

    /// <summary>Per-class means over the subjects added so far, plus the subjects themselves.</summary>
    public MetricsSummary Aggregate()
    {
        SubjectScores[] subjects;
        lock (_gate) subjects = [.. _subjects];
        var classes = new ClassSummary[Classes];
        for (var c = 0; c < Classes; c++)
        {
            var scores = subjects.Select(s => s.Classes[c]).ToArray();
            classes[c] = new ClassSummary(
                c,
                _names[c],
                MetricMath.MeanDefined(scores.Select(s => s.Dice)),
                MetricMath.MeanDefined(scores.Select(s => s.Iou)),
                MetricMath.MeanDefined(scores.Select(s => s.Precision)),
                MetricMath.MeanDefined(scores.Select(s => s.Recall)),
                MetricMath.MeanDefined(scores.Select(s => s.Hd95)),
                MetricMath.MeanDefined(scores.Select(s => s.Assd)),
                scores.Count(s => s.IsScored),
                scores.Count(s => !s.IsScored),
                scores.Count(s => s.Presence is ClassPresence.GroundTruthOnly or ClassPresence.PredictionOnly),
                scores.Length == 0 ? double.NaN : scores.Average(s => s.GroundTruthVolumeMm3),
                scores.Length == 0 ? double.NaN : scores.Average(s => s.PredictedVolumeMm3));
        }
        return new MetricsSummary(classes, subjects);
    }

    /// <summary>Forgets every subject (e.g. at the start of a validation round).</summary>
    public void Reset()
    {
        lock (_gate) _subjects.Clear();
    }

    /// <summary>Volume in mm³ of each label 0 … classes − 1 of a (D, H, W) label map (e.g. a prediction without ground truth).</summary>
    public static double[] ClassVolumesMm3<T>(ReadOnlySpan<T> labels, int classes, VoxelSpacing spacing) where T : unmanaged, IBinaryInteger<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (!spacing.IsValid)
            throw new ArgumentException("voxel spacing must be positive (use a VoxelSpacing constructor)", nameof(spacing));
        var counts = new long[classes];
        foreach (var value in labels)
            counts[CheckedLabel(value, classes, nameof(labels))]++;
        return counts.Select(n => n * spacing.VoxelVolume).ToArray();
    }

    private SubjectScores Score<T>(ReadOnlySpan<T> prediction, ReadOnlySpan<T> groundTruth, VolumeShape shape, VoxelSpacing spacing, string subjectId)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (prediction.Length != shape.VoxelCount)
            throw new ArgumentException($"prediction has {prediction.Length} voxels, shape {shape} needs {shape.VoxelCount}", nameof(prediction));
        if (groundTruth.Length != shape.VoxelCount)
            throw new ArgumentException($"ground truth has {groundTruth.Length} voxels, shape {shape} needs {shape.VoxelCount}", nameof(groundTruth));
        if (!spacing.IsValid)
            throw new ArgumentException("voxel spacing must be positive (use a VoxelSpacing constructor)", nameof(spacing));

        var k = Classes;
        var confusion = new long[k * k]; // [truth, predicted]
        var predictedBoxes = Box.Empty(k);
        var truthBoxes = Box.Empty(k);
        int depth = shape.Depth, height = shape.Height, width = shape.Width;
        var i = 0;
        for (var d = 0; d < depth; d++)
            for (var h = 0; h < height; h++)
                for (var w = 0; w < width; w++, i++)
                {
                    var p = CheckedLabel(prediction[i], k, nameof(prediction));
                    var g = CheckedLabel(groundTruth[i], k, nameof(groundTruth));
                    confusion[g * k + p]++;
                    predictedBoxes[p].Include(d, h, w);
                    truthBoxes[g].Include(d, h, w);
                }

        var voxelVolume = spacing.VoxelVolume;
        var classes = new ClassScores[k];
        for (var c = 0; c < k; c++)
        {
            long truePositive = confusion[c * k + c], truthCount = 0, predictedCount = 0;
            for (var o = 0; o < k; o++)
            {
                truthCount += confusion[c * k + o];
                predictedCount += confusion[o * k + c];
            }
            var presence = (truthCount > 0, predictedCount > 0) switch
            {
                (true, true) => ClassPresence.Both,
                (true, false) => ClassPresence.GroundTruthOnly,
                (false, true) => ClassPresence.PredictionOnly,
                _ => ClassPresence.Neither,
            };
            double dice = double.NaN, iou = double.NaN, hd = double.NaN, assd = double.NaN;
            if (presence != ClassPresence.Neither)
            {
                dice = 2.0 * truePositive / (truthCount + predictedCount);
                iou = (double)truePositive / (truthCount + predictedCount - truePositive);
            }
            var precision = predictedCount > 0 ? (double)truePositive / predictedCount : double.NaN;
            var recall = truthCount > 0 ? (double)truePositive / truthCount : double.NaN;
            if (presence == ClassPresence.Both && _options.SurfaceDistances && (c > 0 || _options.BackgroundSurfaceDistances))
                (hd, assd) = Distances(prediction, groundTruth, shape, spacing, c, Box.Union(predictedBoxes[c], truthBoxes[c]));
            classes[c] = new ClassScores(c, _names[c], presence, dice, iou, precision, recall, hd, assd,
                truthCount, predictedCount, truePositive, truthCount * voxelVolume, predictedCount * voxelVolume);
        }
        return new SubjectScores(subjectId, shape, spacing, classes);
    }

    /// <summary>HD and ASSD of class <paramref name="c"/>, computed inside the bounding box of both masks
    /// (exact: every surface voxel, and so every nearest surface voxel, lies in it).</summary>
    private (double Hd, double Assd) Distances<T>(ReadOnlySpan<T> prediction, ReadOnlySpan<T> groundTruth, VolumeShape shape, VoxelSpacing spacing, int c, Box box)
        where T : unmanaged, IBinaryInteger<T>
    {
        var boxShape = new VolumeShape(box.MaxD - box.MinD + 1, box.MaxH - box.MinH + 1, box.MaxW - box.MinW + 1);
        var predictedMask = new bool[boxShape.VoxelCount];
        var truthMask = new bool[boxShape.VoxelCount];
        var label = T.CreateTruncating(c);
        var j = 0;
        for (var d = box.MinD; d <= box.MaxD; d++)
            for (var h = box.MinH; h <= box.MaxH; h++)
            {
                var row = (int)shape.IndexOf(d, h, box.MinW);
                for (var w = 0; w < boxShape.Width; w++, j++)
                {
                    predictedMask[j] = prediction[row + w] == label;
                    truthMask[j] = groundTruth[row + w] == label;
                }
            }
        var (predictedToTruth, truthToPredicted) = SurfaceDistance.Both(predictedMask, truthMask, boxShape, spacing);
        return (SurfaceDistance.Hausdorff(predictedToTruth, truthToPredicted, _options.HausdorffPercentile),
            SurfaceDistance.AverageSymmetric(predictedToTruth, truthToPredicted));
    }

    private static int CheckedLabel<T>(T value, int classes, string name) where T : unmanaged, IBinaryInteger<T>
    {
        var label = int.CreateSaturating(value);
        if ((uint)label >= (uint)classes)
            throw new ArgumentException($"{name} holds label {value} outside 0..{classes - 1}", name);
        return label;
    }

    /// <summary>Labels (B, D, H, W) as int32 on the CPU from logits, one-hot or label tensors.</summary>
    private Tensor ToLabels(Tensor x, string name)
    {
        Tensor labels;
        if (x.dim() == 5 && x.shape[1] == Classes)
            labels = x.argmax(1);
        else if (x.dim() == 5 && x.shape[1] == 1)
            labels = x.squeeze(1);
        else if (x.dim() == 4)
            labels = x;
        else
            throw new ArgumentException($"{name} ({string.Join(", ", x.shape)}) must be logits / one-hot (B, {Classes}, D, H, W) or labels (B, D, H, W)", name);
        if (labels.is_floating_point())
        {
            if (labels.ne(labels.round()).any().item<bool>())
                throw new ArgumentException($"{name} label map holds non-integer values", name);
        }
        return labels.to(ScalarType.Int32).cpu().contiguous();
    }

    private struct Box
    {
        public int MinD, MinH, MinW, MaxD, MaxH, MaxW;

        public static Box[] Empty(int count)
        {
            var boxes = new Box[count];
            for (var i = 0; i < count; i++)
                boxes[i] = new Box { MinD = int.MaxValue, MinH = int.MaxValue, MinW = int.MaxValue, MaxD = -1, MaxH = -1, MaxW = -1 };
            return boxes;
        }

        public void Include(int d, int h, int w)
        {
            if (d < MinD) MinD = d;
            if (d > MaxD) MaxD = d;
            if (h < MinH) MinH = h;
            if (h > MaxH) MaxH = h;
            if (w < MinW) MinW = w;
            if (w > MaxW) MaxW = w;
        }

        public static Box Union(Box a, Box b) => new()
        {
            MinD = Math.Min(a.MinD, b.MinD), MinH = Math.Min(a.MinH, b.MinH), MinW = Math.Min(a.MinW, b.MinW),
            MaxD = Math.Max(a.MaxD, b.MaxD), MaxH = Math.Max(a.MaxH, b.MaxH), MaxW = Math.Max(a.MaxW, b.MaxW),
        };
    }
}
