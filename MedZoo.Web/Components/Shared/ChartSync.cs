using System.Text.Json.Serialization;

namespace MedZoo.Web.Components.Shared;

/// <summary>
/// What <c>js/charts.js</c>'s <c>draw</c> receives: every line whole (<see cref="Base"/> null), or
/// the points added since spec number <see cref="Base"/>, which the browser appends to what it holds.
/// </summary>
/// <param name="Seq">This spec's number; the next delta names it as its base.</param>
/// <param name="Base">Null: replace everything the browser holds. Otherwise the number of the spec this one builds on.</param>
/// <param name="Series">One entry per line, in order.</param>
/// <param name="XLabel">X axis label (whole specs only).</param>
/// <param name="YMin">Lowest y the axis shows at least (whole specs only).</param>
/// <param name="YMax">Highest y the axis shows at least (whole specs only).</param>
public sealed record ChartSpec(
    long Seq,
    long? Base,
    IReadOnlyList<ChartSeriesSpec> Series,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? XLabel = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? YMin = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? YMax = null);

/// <summary>One line of a <see cref="ChartSpec"/>: its style and points when whole, only new points in a delta.</summary>
/// <param name="Name">Legend text (whole specs only).</param>
/// <param name="Color">CSS colour (whole specs only).</param>
/// <param name="Dashed">Dashed line (whole specs only).</param>
/// <param name="Markers">A dot at every point (whole specs only).</param>
/// <param name="Replace">In a delta: the points replace the line's points instead of following them.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values; null where the line has a gap (JSON has no NaN).</param>
public sealed record ChartSeriesSpec(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Color,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Dashed,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Markers,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Replace,
    double[] X,
    double?[] Y);

/// <summary>
/// What one chart's browser side holds, and the spec that brings it up to date: every line whole
/// the first time, after the lines or axes changed (another line, a line's object replaced) and
/// after <see cref="Forget"/>; otherwise only the points each line gained since the last spec, and
/// a line whose earlier points changed (<see cref="ChartLine.Revision"/>) whole.
/// Not thread-safe: one chart component uses it on its circuit.
/// </summary>
public sealed class ChartSync
{
    private readonly List<(ChartLine Line, int Revision, int Count)> _sent = [];
    private (string? XLabel, double? YMin, double? YMax) _axes;
    private long _seq;
    private bool _synced;

    /// <summary>
    /// The spec from what the browser was last sent to <paramref name="series"/>, counted as sent;
    /// null when nothing changed since.
    /// </summary>
    public ChartSpec? Next(IReadOnlyList<ChartLine> series, string? xLabel, double? yMin, double? yMax)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (!_synced || _axes != (xLabel, yMin, yMax) || series.Count != _sent.Count) return Full(series, xLabel, yMin, yMax);
        for (var i = 0; i < series.Count; i++)
            if (!ReferenceEquals(series[i], _sent[i].Line)) return Full(series, xLabel, yMin, yMax);

        var entries = new ChartSeriesSpec[series.Count];
        var changed = false;
        for (var i = 0; i < series.Count; i++)
        {
            var (line, revision, count) = _sent[i];
            var replace = line.Revision != revision || line.Count < count;
            var from = replace ? 0 : count;
            entries[i] = new ChartSeriesSpec(null, null, null, null, replace, Slice(line.X, from), Gaps(line.Y, from));
            changed |= replace || line.Count > count;
            _sent[i] = (line, line.Revision, line.Count);
        }
        if (!changed) return null;
        var spec = new ChartSpec(_seq + 1, _seq, entries);
        _seq++;
        return spec;
    }

    /// <summary>Every line whole, counted as sent.</summary>
    public ChartSpec Full(IReadOnlyList<ChartLine> series, string? xLabel, double? yMin, double? yMax)
    {
        ArgumentNullException.ThrowIfNull(series);
        _sent.Clear();
        var entries = new ChartSeriesSpec[series.Count];
        for (var i = 0; i < series.Count; i++)
        {
            var line = series[i];
            entries[i] = new ChartSeriesSpec(line.Name, line.Color, line.Dashed, line.Markers, false, Slice(line.X, 0), Gaps(line.Y, 0));
            _sent.Add((line, line.Revision, line.Count));
        }
        _axes = (xLabel, yMin, yMax);
        _synced = true;
        return new ChartSpec(++_seq, null, entries, xLabel, yMin, yMax);
    }

    /// <summary>The browser may have lost what it was sent (a failed call): the next spec is whole.</summary>
    public void Forget() => _synced = false;

    private static double[] Slice(IReadOnlyList<double> values, int from)
    {
        var result = new double[values.Count - from];
        for (var i = from; i < values.Count; i++) result[i - from] = values[i];
        return result;
    }

    // JSON has no NaN: a missing value goes as null, which the chart draws as a gap.
    private static double?[] Gaps(IReadOnlyList<double> values, int from)
    {
        var result = new double?[values.Count - from];
        for (var i = from; i < values.Count; i++) result[i - from] = double.IsFinite(values[i]) ? values[i] : null;
        return result;
    }
}
