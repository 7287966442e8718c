using MedZoo.Web.Runs;


namespace MedZoo.Web.Sweeps;

/// <summary>A sweep as the API and the pages show it: its trials ranked by best Dice.</summary>
/// <param name="Id">Sweep id.</param>
/// <param name="Name">Display name.</param>
/// <param name="CreatedBy">Who started it.</param>
/// <param name="CreatedAt">When (UTC).</param>
/// <param name="State">"running" while a trial is queued or training, then "completed", or "stopped" when someone stopped it.</param>
/// <param name="Parameters">The options varied (the trial table's columns).</param>
/// <param name="Halving">Successive halving in words, or null when off.</param>
/// <param name="Trials">Ranked: best Dice first, trials without one last.</param>
public sealed record SweepView(
    string Id, string Name, string CreatedBy, DateTime CreatedAt, string State, IReadOnlyList<string> Parameters, string? Halving,
    IReadOnlyList<SweepTrialView> Trials)
{
    /// <summary>Trials whose run has ended.</summary>
    public int Finished => Trials.Count(t => t.Status.IsFinished());

    /// <summary>The leading trial (null before any validation).</summary>
    public SweepTrialView? Best => Trials.FirstOrDefault(t => t.BestDice is not null);
}

/// <summary>One trial in a sweep's ranking.</summary>
/// <param name="Rank">1 for the best Dice so far.</param>
/// <param name="Number">Trial number in the sweep's order.</param>
/// <param name="RunId">Its run (open it at /runs/{id}).</param>
/// <param name="Values">Option path → value (JSON).</param>
/// <param name="Status">Its run's status.</param>
/// <param name="BestDice">Best validation mean foreground Dice so far.</param>
/// <param name="EpochsCompleted">Epochs done.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="Note">Why it ended early (successive halving, a failure), or null.</param>
public sealed record SweepTrialView(
    int Rank, int Number, string RunId, IReadOnlyDictionary<string, string> Values, RunStatus Status, double? BestDice, int EpochsCompleted, int Epochs, string? Note)
{
    /// <summary>"learningRate=0.01, loss=dice".</summary>
    public string Label => SweepTrial.Describe(Values);
}
