using System.Globalization;
using System.Text;

namespace MedZoo.Web.Reviews;

/// <summary>
/// A review's per-class metrics as CSV (RFC 4180, invariant culture, one row per class, background
/// first): undefined values (NaN) are empty cells, names are quoted when they contain a comma, a
/// quote or a line break.
/// </summary>
public static class MetricsCsv
{
    /// <summary>The header row's columns.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "class", "name", "presence", "dice", "iou", "hd95_mm", "predicted_voxels", "ground_truth_voxels",
        "predicted_volume_mm3", "ground_truth_volume_mm3", "false_positive_voxels", "false_negative_voxels",
    ];

    public static string Write(IEnumerable<ReviewClassMetrics> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Columns)).Append("\r\n");
        foreach (var r in rows)
        {
            sb.Append(r.Class.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(Quote(r.Name)).Append(',')
              .Append(Quote(r.Presence)).Append(',')
              .Append(Number(r.Dice)).Append(',')
              .Append(Number(r.Iou)).Append(',')
              .Append(Number(r.Hd95)).Append(',')
              .Append(r.PredictedVoxels.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(r.GroundTruthVoxels.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(Number(r.PredictedVolumeMm3)).Append(',')
              .Append(Number(r.GroundTruthVolumeMm3)).Append(',')
              .Append(r.FalsePositiveVoxels.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(r.FalseNegativeVoxels.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }
        return sb.ToString();
    }

    /// <summary>A number with round-trip precision; empty for NaN or ±∞.</summary>
    public static string Number(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";

    /// <summary>A cell, quoted when it must be.</summary>
    public static string Quote(string s) =>
        s.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
