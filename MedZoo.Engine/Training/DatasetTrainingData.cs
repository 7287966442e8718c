using System.Diagnostics;
using MedZoo.Engine.Data;
using MedZoo.Engine.Checkpoints;

namespace MedZoo.Engine.Training;

/// <summary>
/// The data pipeline seen from the training loop: training batches come from a
/// <see cref="PatchLoader"/> on background threads (epoch e's batches depend only on (seed, e)), and
/// validation uses the held-out subjects as whole volumes.
/// </summary>
internal sealed class DatasetTrainingData : ITrainingData
{
    private readonly PatchLoader _loader;

    public DatasetTrainingData(SegmentationDataset dataset, TrainerOptions options)
    {
        if (dataset.Training.Count == 0)
            throw new TrainingFailedException($"dataset '{dataset.Name}' has no training subjects (split {options.Dataset.Split})");
        if (!dataset.Training.All(s => s.HasLabel))
            throw new TrainingFailedException($"dataset '{dataset.Name}' has unlabelled training subjects: training needs label maps");
        DatasetName = dataset.Name;
        ClassNames = dataset.ClassNames;
        Modalities = dataset.Modalities;
        TrainingSubjects = dataset.Training.Count;
        // The loader seeds every draw from (seed, epoch, batch, sample); the 32-bit seed it takes is
        // folded from the run's 64-bit seed.
        _loader = PatchLoader.ForTraining(dataset, options.Sampling, options.Augmentation.Enabled ? options.Augmentation : null,
            unchecked((int)(options.Seed ^ (options.Seed >> 32))));
        Validation = dataset.Validation.Where(s => s.HasLabel).Select(s => new ValidationVolume(
            s.Id, s.ToImageArray(), s.Channels, s.Size.D, s.Size.H, s.Size.W, s.Label!,
            (s.Geometry.Spacing[2], s.Geometry.Spacing[1], s.Geometry.Spacing[0]))).ToList();
        Normalization = options.Plan is not null ? new CheckpointNormalization { Name = "plan" } : new CheckpointNormalization
        {
            Name = options.Dataset.Normalization,
            Parameters = new Dictionary<string, double>
            {
                ["clipLowPercentile"] = options.Dataset.ClipLowPercentile,
                ["clipHighPercentile"] = options.Dataset.ClipHighPercentile,
            },
        };
    }

    public string DatasetName { get; }

    public IReadOnlyList<string> ClassNames { get; }

    public IReadOnlyList<string> Modalities { get; }

    public int TrainingSubjects { get; }

    public IReadOnlyList<ValidationVolume> Validation { get; }

    public CheckpointNormalization Normalization { get; }

    public int StepsPerEpoch => _loader.BatchesPerEpoch;

    public IEnumerable<TrainingBatch> Batches(int epoch, CancellationToken cancellation)
    {
        using var batches = _loader.StartEpoch(epoch, cancellation);
        using var e = batches.GetEnumerator();
        var wait = new Stopwatch();
        while (true)
        {
            wait.Restart();
            bool more;
            try { more = e.MoveNext(); }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { yield break; }
            if (!more) yield break;
            var b = e.Current;
            var labels = b.Labels ?? throw new TrainingFailedException("the data pipeline returned a batch without labels");
            yield return new TrainingBatch(b.Images, b.ImageShape, labels, b.LabelShape, wait.Elapsed.TotalSeconds);
            // The trainer asks for the next batch only after the step that copied this one into tensors
            // has ended and disposed them: its arrays can carry a later batch (no large allocation per step).
            _loader.Return(b);
        }
    }

    public void Dispose() => _loader.Dispose();
}
