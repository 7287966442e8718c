namespace MedZoo.Engine.Benchmarking;

/// <summary>
/// The figures a trainer run is judged by (issue 19.4): the per-step data-wait share and the trend of
/// resident memory. Pure functions of the recorded series, so they are tested apart from any run.
/// </summary>
internal static class TrainerRunStatistics
{
    /// <summary>
    /// Per-step <paramref name="waitSeconds"/> / <paramref name="stepSeconds"/> in percent over the steps
    /// from index <paramref name="from"/> on (the warm-up steps before it are left out): median, nearest-rank
    /// 95th percentile and largest. Null when no step is left. Steps of zero time count as 0 % wait.
    /// </summary>
    public static StepPercentiles? WaitPercent(IReadOnlyList<double> stepSeconds, IReadOnlyList<double> waitSeconds, int from)
    {
        ArgumentNullException.ThrowIfNull(stepSeconds);
        ArgumentNullException.ThrowIfNull(waitSeconds);
        if (stepSeconds.Count != waitSeconds.Count)
            throw new ArgumentException($"{stepSeconds.Count} step times but {waitSeconds.Count} wait times: one of each per step", nameof(waitSeconds));
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        var shares = new List<double>();
        for (var i = from; i < stepSeconds.Count; i++)
            shares.Add(stepSeconds[i] > 0 ? 100 * waitSeconds[i] / stepSeconds[i] : 0);
        if (shares.Count == 0) return null;
        var sorted = shares.Order().ToArray();
        var rank = (int)Math.Ceiling(0.95 * sorted.Length);
        return new StepPercentiles(TimingSummary.MedianOf(sorted), sorted[Math.Max(0, rank - 1)], sorted[^1], sorted.Length);
    }

    /// <summary>
    /// Least-squares slope of <paramref name="values"/> against their step index, over the indices from
    /// <paramref name="from"/> on, scaled to 100 steps (MB per 100 steps for a resident-memory series);
    /// 0 when fewer than two values remain.
    /// </summary>
    public static double SlopePer100Steps(IReadOnlyList<double> values, int from)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        var n = values.Count - from;
        if (n < 2) return 0;
        double meanX = 0, meanY = 0;
        for (var i = from; i < values.Count; i++) { meanX += i; meanY += values[i]; }
        meanX /= n;
        meanY /= n;
        double sxy = 0, sxx = 0;
        for (var i = from; i < values.Count; i++)
        {
            sxy += (i - meanX) * (values[i] - meanY);
            sxx += (i - meanX) * (i - meanX);
        }
        return 100 * sxy / sxx;
    }
}
