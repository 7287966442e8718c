using System.Globalization;

namespace MedZoo.Web.Sweeps;

/// <summary>What successive halving says about a trial at a rung.</summary>
/// <param name="Stop">True when the trial trails and should stop.</param>
/// <param name="Reason">Why, in words shown on the run and the sweep (null when it goes on).</param>
public sealed record HalvingDecision(bool Stop, string? Reason);

/// <summary>
/// Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter Tuning", 2020):
/// trials are compared at rung epochs <c>r·η^k</c>; one reaching a rung goes on when its value is among the best
/// <c>⌊n/η⌋</c> (at least one) of the <c>n</c> trials that reached that rung so far, and is stopped otherwise.
/// Until <c>η</c> trials have reached a rung, everyone goes on. Pure: no state, no clock.
/// </summary>
public static class SuccessiveHalving
{
    /// <summary>The rung epochs below <paramref name="epochs"/> (the last epoch is the end, not a rung).</summary>
    public static IReadOnlyList<int> Rungs(int minEpochs, int eta, int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minEpochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(eta, 2);
        var rungs = new List<int>();
        for (long r = minEpochs; r < epochs; r *= eta) rungs.Add((int)r);
        return rungs;
    }

    /// <summary>
    /// Decides for a trial whose best Dice so far is <paramref name="value"/> at rung <paramref name="epoch"/>, given
    /// the values every trial recorded at that rung (<paramref name="atRung"/>, this one included).
    /// </summary>
    public static HalvingDecision Decide(double value, IReadOnlyCollection<double> atRung, int eta, int epoch)
    {
        ArgumentNullException.ThrowIfNull(atRung);
        var n = atRung.Count;
        if (n < eta) return new HalvingDecision(false, null);
        var keep = Math.Max(1, n / eta);
        var threshold = atRung.OrderByDescending(v => v).ElementAt(keep - 1);
        if (value >= threshold) return new HalvingDecision(false, null);
        return new HalvingDecision(true, string.Create(CultureInfo.InvariantCulture,
            $"stopped by successive halving at epoch {epoch}: best Dice {value:0.000} is not among the best {keep} of the {n} trials that reached this epoch (needs {threshold:0.000})"));
    }
}
