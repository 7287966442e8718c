using MedZoo.Engine.Checkpoints;

namespace MedZoo.Engine.Training;

/// <summary>
/// Stops a run when validation mean foreground Dice has not improved by more than
/// <c>minDelta</c> for <c>patience</c> validations. Patience 0 disables it.
/// </summary>
internal sealed class EarlyStopping(int patience, double minDelta)
{
    private double _best = double.NaN;
    private int _without;

    /// <summary>Validations since the last improvement.</summary>
    public int EpochsWithoutImprovement => _without;

    /// <summary>Records a validation result; returns true when the run should stop.</summary>
    public bool Update(double metric)
    {
        if (double.IsNaN(metric)) return false;
        if (double.IsNaN(_best) || metric > _best + minDelta)
        {
            _best = metric;
            _without = 0;
            return false;
        }
        _without++;
        return patience > 0 && _without >= patience;
    }

    public EarlyStoppingState Save() => new(_best, _without);

    public void Load(EarlyStoppingState? state)
    {
        if (state is null) return;
        _best = state.Best;
        _without = state.EpochsWithoutImprovement;
    }
}
