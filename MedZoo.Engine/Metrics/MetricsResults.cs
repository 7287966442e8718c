namespace MedZoo.Engine.Metrics;

/// <summary>Where a class occurs in one subject; decides which metrics are defined.</summary>
public enum ClassPresence
{
    /// <summary>In both the ground truth and the prediction: every metric is defined.</summary>
    Both,

    /// <summary>Only in the ground truth (missed): Dice = IoU = recall = 0; precision, HD95, ASSD NaN.</summary>
    GroundTruthOnly,

    /// <summary>Only in the prediction (false alarm): Dice = IoU = precision = 0; recall, HD95, ASSD NaN.</summary>
    PredictionOnly,

    /// <summary>In neither: correctly absent. Every metric is NaN and the class is left out of every mean.</summary>
    Neither,
}

/// <summary>
/// Metrics of one class in one subject (hard labels). Dice = 2TP/(P+G), IoU = TP/(P+G−TP),
/// precision = TP/P, recall = TP/G, HD95 and ASSD in mm as defined by <see cref="SurfaceDistance"/>; NaN
/// where undefined (see <see cref="ClassPresence"/>) or not computed (surface distances switched off or
/// background). Volumes are voxel counts × voxel volume.
/// </summary>
public sealed record ClassScores(
    int Class,
    string Name,
    ClassPresence Presence,
    double Dice,
    double Iou,
    double Precision,
    double Recall,
    double Hd95,
    double Assd,
    long GroundTruthVoxels,
    long PredictedVoxels,
    long TruePositiveVoxels,
    double GroundTruthVolumeMm3,
    double PredictedVolumeMm3)
{
    /// <summary>False when the class is absent from both (then it is excluded from means).</summary>
    public bool IsScored => Presence != ClassPresence.Neither;
}

/// <summary>
/// All classes of one subject (index = class, background first) and the means over its foreground
/// classes (classes ≥ 1 whose value is defined; NaN when none is).
/// </summary>
public sealed record SubjectScores(string Id, VolumeShape Shape, VoxelSpacing Spacing, IReadOnlyList<ClassScores> Classes)
{
    public double MeanForegroundDice => MetricMath.ForegroundMean(Classes, c => c.Dice);

    public double MeanForegroundIou => MetricMath.ForegroundMean(Classes, c => c.Iou);

    public double MeanForegroundHd95 => MetricMath.ForegroundMean(Classes, c => c.Hd95);

    public double MeanForegroundAssd => MetricMath.ForegroundMean(Classes, c => c.Assd);
}

/// <summary>
/// One class over every subject added: each metric is the mean over the subjects where it is defined
/// (NaN when never defined). <see cref="ScoredSubjects"/> counts subjects where the class is present in
/// the ground truth or the prediction, <see cref="AbsentSubjects"/> those where it is in neither
/// (excluded), <see cref="UndefinedDistanceSubjects"/> scored subjects whose HD95/ASSD are NaN because
/// one side is empty. Volumes are means over all subjects (absent = 0 mm³).
/// </summary>
public sealed record ClassSummary(
    int Class,
    string Name,
    double Dice,
    double Iou,
    double Precision,
    double Recall,
    double Hd95,
    double Assd,
    int ScoredSubjects,
    int AbsentSubjects,
    int UndefinedDistanceSubjects,
    double MeanGroundTruthVolumeMm3,
    double MeanPredictedVolumeMm3);

/// <summary>
/// Result of <see cref="SegmentationMetrics.Aggregate"/>: per-class summaries (index = class, background
/// first), every subject's scores, and means over the foreground classes of the per-class means (classes
/// whose mean is NaN are left out; NaN when none is defined).
/// </summary>
public sealed record MetricsSummary(IReadOnlyList<ClassSummary> Classes, IReadOnlyList<SubjectScores> Subjects)
{
    public double MeanForegroundDice => MetricMath.ForegroundMean(Classes, c => c.Dice);

    public double MeanForegroundIou => MetricMath.ForegroundMean(Classes, c => c.Iou);

    public double MeanForegroundPrecision => MetricMath.ForegroundMean(Classes, c => c.Precision);

    public double MeanForegroundRecall => MetricMath.ForegroundMean(Classes, c => c.Recall);

    public double MeanForegroundHd95 => MetricMath.ForegroundMean(Classes, c => c.Hd95);

    public double MeanForegroundAssd => MetricMath.ForegroundMean(Classes, c => c.Assd);
}

internal static class MetricMath
{
    /// <summary>Mean of the defined (non-NaN) values; NaN when there is none.</summary>
    public static double MeanDefined(IEnumerable<double> values)
    {
        double sum = 0;
        var count = 0;
        foreach (var v in values)
        {
            if (double.IsNaN(v)) continue;
            sum += v;
            count++;
        }
        return count == 0 ? double.NaN : sum / count;
    }

    public static double ForegroundMean<T>(IReadOnlyList<T> classes, Func<T, double> value) =>
        MeanDefined(classes.Skip(1).Select(value));
}
