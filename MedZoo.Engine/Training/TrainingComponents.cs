using MedZoo.Engine.Data;
using MedZoo.Engine.Losses;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Training;

/// <summary>
/// What one run trains: the network, its description for checkpoints, the loss and the data. The
/// trainer owns and disposes it.
/// </summary>
internal sealed class TrainingComponents : IDisposable
{
    /// <summary>The network; also an <see cref="ISegmentationNetwork"/>.</summary>
    public required nn.Module<Tensor, Tensor> Model { get; init; }

    /// <summary>The network's segmentation interface (auxiliary outputs, shape checks).</summary>
    public ISegmentationNetwork Network => (ISegmentationNetwork)Model;

    /// <summary>How to rebuild the network from a checkpoint.</summary>
    public required CheckpointModel ModelSpec { get; init; }

    /// <summary>The training loss.</summary>
    public required SegmentationLoss Loss { get; init; }

    /// <summary>Training batches and validation volumes.</summary>
    public required ITrainingData Data { get; init; }

    /// <summary>
    /// Loads the dataset, builds the model from the zoo (on <paramref name="device"/>) and the loss
    /// from <see cref="LossFactory"/>, checking that channels and classes agree.
    /// </summary>
    public static TrainingComponents Create(TrainerOptions options, Device device, CancellationToken cancellation)
    {
        var datasetOptions = options.Dataset.Clone();
        if (options.InModalities > 0 && datasetOptions.Modalities is not { Length: > 0 })
        {
            var available = DatasetCatalog.Get(datasetOptions.Name).Scan(datasetOptions).Modalities;
            if (options.InModalities > available.Count)
                throw new TrainingFailedException($"InModalities: {options.InModalities} modalities asked, dataset '{datasetOptions.Name}' has {available.Count} ({string.Join(", ", available)})");
            datasetOptions.Modalities = available.Take(options.InModalities).ToArray();
        }
        var dataset = SegmentationDataset.Load(datasetOptions, cancellation: cancellation, preprocessing: options.Plan is { } plan ? new Planning.PlannedPreprocessing(plan) : null);
        if (options.InChannels > 0 && options.InChannels != dataset.Modalities.Count)
            throw new TrainingFailedException(
                $"InChannels: {options.InChannels} input channels but the dataset gives {dataset.Modalities.Count} modalit{(dataset.Modalities.Count == 1 ? "y" : "ies")} ({string.Join(", ", dataset.Modalities)})");

        ITrainingData? data = null;
        nn.Module<Tensor, Tensor>? model = null;
        try
        {
            data = new DatasetTrainingData(dataset, options);
            var spec = new CheckpointModel
            {
                Name = options.Model,
                InChannels = dataset.Modalities.Count,
                Classes = dataset.ClassCount,
                BaseFilters = options.BaseFilters,
                Depth = CheckpointModels.RecordedDepth(options.Model, options.ModelDepth),
                DropRate = options.DropRate,
            };
            model = CheckpointModels.Build(spec, options.Sampling.PatchSize);
            spec.Name = CheckpointModels.CanonicalName(options.Model);
            spec.ParameterCount = model.parameters().Sum(p => p.numel());
            model.to(device);
            return new TrainingComponents
            {
                Model = model,
                ModelSpec = spec,
                Loss = LossFactory.Create(options.Loss, options.LossOptions),
                Data = data,
            };
        }
        catch
        {
            model?.Dispose();
            data?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Loss.Dispose();
        Data.Dispose();
    }
}
