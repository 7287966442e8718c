namespace MedZoo.Engine.Training;

/// <summary>What <see cref="Trainer.Run"/> returns (the same facts as the final <see cref="RunFinished"/> event, plus locations).</summary>
/// <param name="Outcome">How the run ended.</param>
/// <param name="Reason">Why it stopped or failed; null on normal completion.</param>
/// <param name="EpochsCompleted">Last completed epoch (1-based; counts epochs of earlier sessions when resumed).</param>
/// <param name="GlobalStep">Optimizer steps taken, across resumes.</param>
/// <param name="BestEpoch">Epoch with the best validation mean foreground Dice; null if never validated.</param>
/// <param name="BestMeanForegroundDice">That Dice.</param>
/// <param name="BestClassMetrics">Per-class validation metrics of the best epoch (background first); null if never validated.</param>
/// <param name="BestCheckpoint">Store location of the best checkpoint; null if none was written.</param>
/// <param name="LastCheckpoint">Store location of the last checkpoint; null if none was written.</param>
/// <param name="FinalTrainLoss">Mean training loss of the last completed epoch; NaN if none.</param>
/// <param name="History">Every completed epoch, in order (including those of earlier sessions when resumed).</param>
public sealed record TrainingResult(
    RunOutcome Outcome,
    string? Reason,
    int EpochsCompleted,
    long GlobalStep,
    int? BestEpoch,
    double? BestMeanForegroundDice,
    IReadOnlyList<ClassMetrics>? BestClassMetrics,
    string? BestCheckpoint,
    string? LastCheckpoint,
    double FinalTrainLoss,
    IReadOnlyList<EpochCompleted> History);
