namespace MedZoo.Web.Components.Shared;

/// <summary>
/// One line of a <see cref="LineChart"/>. A line grows: a page keeps its lines and adds points as
/// they arrive, and the chart then sends the browser only the points added since its last draw
/// (<see cref="ChartSync"/>). Changing points already added (<see cref="Replace"/>) bumps
/// <see cref="Revision"/>, and the chart sends that line whole again.
/// </summary>
public sealed class ChartLine
{
    private readonly List<double> _x = [];
    private readonly List<double> _y = [];

    /// <param name="name">Legend text.</param>
    /// <param name="color">CSS colour.</param>
    /// <param name="x">X values, ascending.</param>
    /// <param name="y">Y values (NaN breaks the line).</param>
    /// <param name="dashed">Dashed line (e.g. validation next to training).</param>
    /// <param name="markers">Draw a dot at every point (points with no neighbour get one anyway).</param>
    public ChartLine(string name, string color, IEnumerable<double> x, IEnumerable<double> y, bool dashed = false, bool markers = false)
        : this(name, color, dashed, markers) => Replace(x, y);

    /// <summary>An empty line, to add points to as they arrive.</summary>
    public ChartLine(string name, string color, bool dashed = false, bool markers = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(color);
        Name = name;
        Color = color;
        Dashed = dashed;
        Markers = markers;
    }

    /// <summary>Legend text.</summary>
    public string Name { get; }

    /// <summary>CSS colour.</summary>
    public string Color { get; }

    /// <summary>Dashed line (e.g. validation next to training).</summary>
    public bool Dashed { get; }

    /// <summary>Draw a dot at every point (points with no neighbour get one anyway).</summary>
    public bool Markers { get; }

    /// <summary>X values, ascending.</summary>
    public IReadOnlyList<double> X => _x;

    /// <summary>Y values (NaN breaks the line).</summary>
    public IReadOnlyList<double> Y => _y;

    /// <summary>Points in the line.</summary>
    public int Count => _x.Count;

    /// <summary>Points with a finite y (what the chart draws).</summary>
    public int FiniteCount { get; private set; }

    /// <summary>Changes whenever points already in the line change; adding points leaves it as it is.</summary>
    public int Revision { get; private set; }

    /// <summary>Adds a point after the others (x ascending: <paramref name="x"/> at or after the last x).</summary>
    public void Add(double x, double y)
    {
        _x.Add(x);
        _y.Add(y);
        if (double.IsFinite(y)) FiniteCount++;
    }

    /// <summary>
    /// Adds a point that has a value; one without (null or NaN) is left out, so the line joins
    /// the points around it (see <see cref="Through"/>).
    /// </summary>
    public void AddThrough(double x, double? y)
    {
        if (y is { } v && double.IsFinite(v)) Add(x, v);
    }

    /// <summary>Replaces every point.</summary>
    public void Replace(IEnumerable<double> x, IEnumerable<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var xs = x.ToList();
        var ys = y.ToList();
        if (xs.Count != ys.Count) throw new ArgumentException($"line '{Name}': x has {xs.Count} points but y has {ys.Count}", nameof(y));
        _x.Clear();
        _y.Clear();
        FiniteCount = 0;
        Revision++;
        for (var i = 0; i < xs.Count; i++) Add(xs[i], ys[i]);
    }

    /// <summary>
    /// A line through the points that have a value, joined across the ones that have none: a
    /// metric measured every few epochs (validation every 3) reads as a line with a dot at each
    /// measurement, not as isolated points between gaps.
    /// </summary>
    public static ChartLine Through(string name, string color, IEnumerable<(double X, double? Y)> points, bool dashed = false)
    {
        var line = new ChartLine(name, color, dashed, markers: true);
        foreach (var (x, y) in points) line.AddThrough(x, y);
        return line;
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
