namespace MedZoo.Web.Components.Shared;

/// <summary>One line of a <see cref="LineChart"/>.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Color">CSS colour.</param>
/// <param name="X">X values, ascending.</param>
/// <param name="Y">Y values (NaN breaks the line).</param>
/// <param name="Dashed">Dashed line (e.g. validation next to training).</param>
/// <param name="Markers">Draw a dot at every point (points with no neighbour get one anyway).</param>
public sealed record ChartLine(string Name, string Color, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool Dashed = false, bool Markers = false)
{
    /// <summary>
    /// A line through the points that have a value, joined across the ones that have none: a
    /// metric measured every few epochs (validation every 3) reads as a line with a dot at each
    /// measurement, not as isolated points between gaps.
    /// </summary>
    public static ChartLine Through(string name, string color, IEnumerable<(double X, double? Y)> points, bool dashed = false)
    {
        var kept = points.Where(p => p.Y is { } y && double.IsFinite(y)).ToList();
        return new ChartLine(name, color, kept.Select(p => p.X).ToList(), kept.Select(p => p.Y!.Value).ToList(), dashed, Markers: true);
    }
}

/// <summary>Colours of classes and runs, shared by charts and slice overlays so a class looks the same everywhere.</summary>
public static class MzColors
{
    private static readonly (byte R, byte G, byte B)[] Colors =
    [
        (0, 0, 0), (230, 57, 70), (42, 157, 143), (69, 123, 230), (244, 162, 97), (155, 93, 229),
        (0, 187, 249), (241, 91, 181), (130, 200, 60), (200, 160, 30), (120, 120, 120),
    ];

    private static readonly string[] Series =
    [
        "#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#558b2f", "#4e342e", "#37474f",
    ];

    /// <summary>CSS colour of class <paramref name="index"/> (0 = background).</summary>
    public static string Class(int index)
    {
        var c = Colors[index <= 0 ? 0 : 1 + (index - 1) % (Colors.Length - 1)];
        return $"rgb({c.R},{c.G},{c.B})";
    }

    /// <summary>RGB triples of classes 0..count-1 for the slice overlay.</summary>
    public static int[][] ClassRgb(int count) =>
        Enumerable.Range(0, Math.Max(count, 1)).Select(i =>
        {
            var c = Colors[i <= 0 ? 0 : 1 + (i - 1) % (Colors.Length - 1)];
            return new[] { (int)c.R, c.G, c.B };
        }).ToArray();

    /// <summary>CSS colour of the <paramref name="index"/>-th series (runs in a comparison, curves in a chart).</summary>
    public static string Line(int index) => Series[((index % Series.Length) + Series.Length) % Series.Length];
}
