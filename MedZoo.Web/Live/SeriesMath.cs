namespace MedZoo.Web.Live;

/// <summary>
/// Chart helpers: smoothing like TensorBoard's and shape-preserving reduction of long series
/// (a chart's lines are downsampled for drawing by the browser, js/charts.js, the same way).
/// </summary>
public static class SeriesMath
{
    /// <summary>
    /// Exponential moving average with debiasing (TensorBoard's smoothing): weight 0 returns the
    /// input, weight towards 1 smooths more. NaN points stay NaN and do not disturb the average.
    /// </summary>
    public static double[] Smooth(IReadOnlyList<double> ys, double weight)
    {
        var smoother = new Smoother(weight);
        var result = new double[ys.Count];
        for (var i = 0; i < ys.Count; i++) result[i] = smoother.Next(ys[i]);
        return result;
    }

    /// <summary>
    /// <see cref="Smooth"/> one point at a time, for a series that grows: the smoothed value of a
    /// point depends only on the points before it, so a live chart smooths each new point once.
    /// </summary>
    public sealed class Smoother
    {
        private double _last;
        private int _n;

        /// <param name="weight">0 returns the input; towards 1 smooths more (below 1).</param>
        public Smoother(double weight)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(weight, 0);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(weight, 1);
            Weight = weight;
        }

        /// <summary>The smoothing weight.</summary>
        public double Weight { get; }

        /// <summary>The smoothed value of the next point (NaN stays NaN and leaves the average alone).</summary>
        public double Next(double y)
        {
            if (!double.IsFinite(y)) return y;
            _last = _last * Weight + (1 - Weight) * y;
            _n++;
            var debias = Weight == 0 ? 1 : 1 - Math.Pow(Weight, _n);
            return _last / debias;
        }
    }

    /// <summary>
    /// Indices (ascending) of the points to keep when the first <paramref name="count"/> points of
    /// <paramref name="points"/> (in ascending <paramref name="x"/>) are reduced to
    /// <paramref name="buckets"/> equal ranges of x: the lowest and highest finite y of each range,
    /// or its first point where no y is finite (so a gap stays a gap). At most 2 × buckets indices.
    /// Ranges are equal in x rather than in count so that points already reduced once are not
    /// squeezed again by later reductions.
    /// </summary>
    public static List<int> BucketExtremes<T>(IReadOnlyList<T> points, int count, Func<T, long> x, Func<T, double> y, int buckets)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, points.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        var keep = new List<int>(Math.Min(count, 2 * buckets));
        if (count == 0) return keep;
        var x0 = x(points[0]);
        var span = (double)(x(points[count - 1]) - x0) + 1;
        var i = 0;
        while (i < count)
        {
            var bucket = (long)((x(points[i]) - x0) * buckets / span);
            int first = i, lo = -1, hi = -1;
            for (; i < count && (long)((x(points[i]) - x0) * buckets / span) == bucket; i++)
            {
                var v = y(points[i]);
                if (!double.IsFinite(v)) continue;
                if (lo < 0 || v < y(points[lo])) lo = i;
                if (hi < 0 || v > y(points[hi])) hi = i;
            }
            if (lo < 0) keep.Add(first);
            else if (lo == hi) keep.Add(lo);
            else
            {
                keep.Add(Math.Min(lo, hi));
                keep.Add(Math.Max(lo, hi));
            }
        }
        return keep;
    }
}
