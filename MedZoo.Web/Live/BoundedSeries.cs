namespace MedZoo.Web.Live;

/// <summary>
/// A run's per-step series in bounded memory, however long the run: at most
/// <see cref="MaxPoints"/> points, the newest <see cref="ExactPoints"/> exactly as they came,
/// older ones reduced to the lowest and highest value of equal ranges of steps (so spikes and the
/// shape survive, and early training keeps as many points per step as late training). Points are
/// added in the order they happened; a point at or before the last step means training was rewound
/// (resumed from a checkpoint), and the points from that step on are superseded by the new ones.
/// Used by run pages and by the HTTP API's downsampled view, so both show the same series.
/// </summary>
/// <typeparam name="T">The point type.</typeparam>
public sealed class BoundedSeries<T>
{
    private readonly Func<T, long> _step;
    private readonly Func<T, double> _value;
    private List<T> _points = [];

    /// <param name="step">The point's global step (its x).</param>
    /// <param name="value">The value whose extremes are kept when points are reduced (the loss).</param>
    /// <param name="maxPoints">Most points held; at least <paramref name="exactPoints"/> + 8.</param>
    /// <param name="exactPoints">Newest points always kept exactly.</param>
    public BoundedSeries(Func<T, long> step, Func<T, double> value, int maxPoints, int exactPoints)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfNegative(exactPoints);
        if (maxPoints < exactPoints + 8)
            throw new ArgumentOutOfRangeException(nameof(maxPoints), maxPoints, $"must be at least exactPoints + 8 = {exactPoints + 8}");
        _step = step;
        _value = value;
        MaxPoints = maxPoints;
        ExactPoints = exactPoints;
    }

    /// <summary>Most points held.</summary>
    public int MaxPoints { get; }

    /// <summary>Newest points always kept exactly.</summary>
    public int ExactPoints { get; }

    /// <summary>The points held, in step order.</summary>
    public IReadOnlyList<T> Points => _points;

    /// <summary>
    /// Changes whenever points already held are removed or reduced (a rewind or a reduction);
    /// while it stays the same, the series only grew at its end, so a chart can append.
    /// </summary>
    public int Revision { get; private set; }

    /// <summary>Adds the next point; reduces older points when the series is full.</summary>
    public void Add(T point)
    {
        var step = _step(point);
        if (_points.Count > 0 && step <= _step(_points[^1]))
        {
            var from = FirstAtOrAfter(step);
            _points.RemoveRange(from, _points.Count - from);
            Revision++;
        }
        _points.Add(point);
        if (_points.Count > MaxPoints) Reduce();
    }

    private int FirstAtOrAfter(long step)
    {
        int lo = 0, hi = _points.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_step(_points[mid]) < step) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    // Reduces the older points to half of their room, so a reduction happens once per
    // (MaxPoints - ExactPoints) / 2 additions and costs O(MaxPoints): constant work per point.
    private void Reduce()
    {
        var older = _points.Count - ExactPoints;
        var buckets = Math.Max(1, (MaxPoints - ExactPoints) / 4);
        var keep = SeriesMath.BucketExtremes(_points, older, _step, _value, buckets);
        var next = new List<T>(MaxPoints + 1);
        foreach (var i in keep) next.Add(_points[i]);
        for (var i = older; i < _points.Count; i++) next.Add(_points[i]);
        _points = next;
        Revision++;
    }
}
