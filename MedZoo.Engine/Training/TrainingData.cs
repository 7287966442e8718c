using MedZoo.Engine.Checkpoints;

namespace MedZoo.Engine.Training;

/// <summary>One training batch as plain arrays, and how long the trainer waited for it.</summary>
/// <param name="Images">(B, C, D, H, W) float32, C order.</param>
/// <param name="ImageShape">(B, C, D, H, W).</param>
/// <param name="Labels">(B, D, H, W) class indices.</param>
/// <param name="LabelShape">(B, D, H, W).</param>
/// <param name="WaitSeconds">Time the training thread spent blocked waiting for this batch.</param>
internal sealed record TrainingBatch(float[] Images, long[] ImageShape, byte[] Labels, long[] LabelShape, double WaitSeconds);

/// <summary>A whole held-out volume for validation.</summary>
/// <param name="Id">Subject id.</param>
/// <param name="Image">(C, D, H, W) float32, normalized as for training.</param>
/// <param name="Channels">C.</param>
/// <param name="D">Depth.</param>
/// <param name="H">Height.</param>
/// <param name="W">Width.</param>
/// <param name="Label">(D, H, W) class indices.</param>
/// <param name="Spacing">Voxel size in mm along (D, H, W).</param>
internal sealed record ValidationVolume(string Id, float[] Image, int Channels, int D, int H, int W, byte[] Label, (double D, double H, double W) Spacing);

/// <summary>
/// What the training loop needs from the data pipeline. Batches of an epoch must depend only on
/// the run's seed and the epoch number, so that a resumed run sees the same batches as an
/// uninterrupted one.
/// </summary>
internal interface ITrainingData : IDisposable
{
    string DatasetName { get; }

    IReadOnlyList<string> ClassNames { get; }

    IReadOnlyList<string> Modalities { get; }

    int TrainingSubjects { get; }

    IReadOnlyList<ValidationVolume> Validation { get; }

    CheckpointNormalization Normalization { get; }

    int StepsPerEpoch { get; }

    /// <summary>The batches of 1-based <paramref name="epoch"/>; stops early when cancelled.</summary>
    IEnumerable<TrainingBatch> Batches(int epoch, CancellationToken cancellation);
}
