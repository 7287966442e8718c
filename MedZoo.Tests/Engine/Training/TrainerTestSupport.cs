using System.Collections.Concurrent;
using MedZoo.Engine.Losses;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Training;
using MedZoo.Engine.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Training;

/// <summary>A two-layer convolutional segmenter: tiny, fast, and able to learn an intensity threshold.</summary>
internal sealed class TinySegNet : nn.Module<Tensor, Tensor>, ISegmentationNetwork
{
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly nn.Module<Tensor, Tensor> conv2;

    // medZooConvolutions: MedZoo's routed Convolution3d instead of torch's own layer.
    public TinySegNet(int inChannels, int classes, bool medZooConvolutions = false) : base(nameof(TinySegNet))
    {
        InChannels = inChannels;
        Classes = classes;
        conv1 = medZooConvolutions ? MedZoo.Engine.Networks.Blocks.Layers.Conv3d(inChannels, 4, 3, padding: 1) : nn.Conv3d(inChannels, 4, 3, padding: 1);
        conv2 = medZooConvolutions ? MedZoo.Engine.Networks.Blocks.Layers.Conv3d(4, classes, 1) : nn.Conv3d(4, classes, 1);
        RegisterComponents();
    }

    public int InChannels { get; }

    public int Classes { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return conv2.call(nn.functional.relu(conv1.call(input))).MoveToOuterDisposeScope();
    }

    public SegmentationOutput ForwardWithAuxiliary(Tensor input) => SegmentationOutput.Of(forward(input));

    public void ValidateInputShape(ReadOnlySpan<long> shape)
    {
        if (shape.Length != 5 || shape[1] != InChannels) throw new ArgumentException($"TinySegNet needs (B, {InChannels}, D, H, W)");
    }
}

/// <summary>
/// Cubes on a noisy background: class 1 is bright, so a network learns it within a few steps.
/// Patches are cut at positions drawn from (seed, epoch, batch), like the real pipeline.
/// </summary>
internal sealed class BlobData : ITrainingData
{
    private const int Size = 16;
    private readonly long _seed;
    private readonly int _batchSize;
    private readonly int _patch;
    private readonly List<(float[] Image, byte[] Label)> _train = [];

    public BlobData(long seed, int steps, int batchSize = 2, int patch = 8, int validation = 2)
    {
        _seed = seed;
        StepsPerEpoch = steps;
        _batchSize = batchSize;
        _patch = patch;
        for (var i = 0; i < 3; i++) _train.Add(Volume(i));
        Validation = Enumerable.Range(0, validation).Select(i =>
        {
            var (image, label) = Volume(100 + i);
            return new ValidationVolume($"val-{i}", image, 1, Size, Size, Size, label, (1, 1, 1));
        }).ToList();
    }

    /// <summary>Called with (epoch, step) before each batch; may throw or return a poisoned batch.</summary>
    public Func<int, int, TrainingBatch, TrainingBatch>? Intercept { get; set; }

    public string DatasetName => "blobs";

    public IReadOnlyList<string> ClassNames { get; } = ["Background", "Blob"];

    public IReadOnlyList<string> Modalities { get; } = ["T1"];

    public int TrainingSubjects => _train.Count;

    public IReadOnlyList<ValidationVolume> Validation { get; }

    public CheckpointNormalization Normalization { get; } = new() { Name = "none" };

    public int StepsPerEpoch { get; }

    public IEnumerable<TrainingBatch> Batches(int epoch, CancellationToken cancellation)
    {
        for (var step = 1; step <= StepsPerEpoch; step++)
        {
            if (cancellation.IsCancellationRequested) yield break;
            var random = new Random(HashCode.Combine(_seed, epoch, step));
            var n = _patch * _patch * _patch;
            var images = new float[_batchSize * n];
            var labels = new byte[_batchSize * n];
            for (var b = 0; b < _batchSize; b++)
            {
                var (image, label) = _train[random.Next(_train.Count)];
                int d0 = random.Next(Size - _patch + 1), h0 = random.Next(Size - _patch + 1), w0 = random.Next(Size - _patch + 1);
                var k = b * n;
                for (var d = 0; d < _patch; d++)
                    for (var h = 0; h < _patch; h++)
                        for (var w = 0; w < _patch; w++, k++)
                        {
                            var src = ((d0 + d) * Size + h0 + h) * Size + w0 + w;
                            images[k] = image[src];
                            labels[k] = label[src];
                        }
            }
            var batch = new TrainingBatch(images, [_batchSize, 1, _patch, _patch, _patch], labels, [_batchSize, _patch, _patch, _patch], 0);
            yield return Intercept?.Invoke(epoch, step, batch) ?? batch;
        }
    }

    private static (float[] Image, byte[] Label) Volume(int index)
    {
        var random = new Random(index);
        var image = new float[Size * Size * Size];
        var label = new byte[image.Length];
        int c0 = 3 + index % 5, c1 = c0 + 7;
        for (int d = 0, k = 0; d < Size; d++)
            for (var h = 0; h < Size; h++)
                for (var w = 0; w < Size; w++, k++)
                {
                    var inside = d >= c0 && d < c1 && h >= c0 - 1 && h < c1 && w >= 2 && w < 12;
                    label[k] = (byte)(inside ? 1 : 0);
                    image[k] = (inside ? 1f : -1f) + 0.3f * (float)(random.NextDouble() - 0.5);
                }
        return (image, label);
    }

    public void Dispose()
    {
    }
}

/// <summary>Collects events; optional hooks run on the training thread.</summary>
internal sealed class RecordingObserver : ITrainingObserver
{
    public ConcurrentQueue<TrainingEvent> Events { get; } = new();

    public Action<TrainingEvent>? OnEach { get; set; }

    public void OnEvent(TrainingEvent trainingEvent)
    {
        Events.Enqueue(trainingEvent);
        OnEach?.Invoke(trainingEvent);
    }

    public List<T> Of<T>() where T : TrainingEvent => Events.OfType<T>().ToList();
}

internal static class TestTrainers
{
    public static TrainerOptions Options(int epochs = 2) => new()
    {
        Model = "HIGHRESNET", // any patch size passes validation; the test factory builds TinySegNet instead
        Epochs = epochs,
        LearningRate = 0.05,
        Optimizer = OptimizerKind.Adam,
        Loss = "dice_ce",
        Device = "cpu",
        Seed = 11,
        SurfaceDistances = false,
        Augmentation = { Enabled = false },
        Sampling = { PatchSize = [8, 8, 8], BatchSize = 2 },
    };

    /// <summary>
    /// Options for the real data pipeline on tiny synthetic phantoms (3 subjects of 24³, 2 for
    /// training), augmentation on, so the patch loader's threads and random draws are exercised.
    /// </summary>
    public static TrainerOptions SyntheticOptions(int epochs)
    {
        var o = Options(epochs);
        o.Dataset.SyntheticSubjects = 3;
        o.Dataset.SyntheticSize = [24, 24, 24];
        o.Dataset.Split = 0.67;
        o.Sampling.PatchSize = [12, 12, 12];
        o.Sampling.SamplesTrain = 6;
        o.Sampling.Workers = 2;
        o.Augmentation.Enabled = true;
        return o;
    }

    /// <summary>A trainer over the real synthetic dataset and patch loader, with <see cref="TinySegNet"/> as the model.</summary>
    public static Trainer WithSyntheticData() => new((options, device, cancellation) =>
    {
        var dataset = MedZoo.Engine.Data.SegmentationDataset.Load(options.Dataset, cancellation: cancellation);
        var model = new TinySegNet(dataset.Modalities.Count, dataset.ClassCount);
        model.to(device);
        return new TrainingComponents
        {
            Model = model,
            ModelSpec = new CheckpointModel
            {
                Name = "TINY", InChannels = dataset.Modalities.Count, Classes = dataset.ClassCount,
                ParameterCount = model.parameters().Sum(p => p.numel()),
            },
            Loss = LossFactory.Create(options.Loss, options.LossOptions),
            Data = new DatasetTrainingData(dataset, options),
        };
    });

    /// <summary>A trainer whose components are <see cref="TinySegNet"/> and <paramref name="data"/>.</summary>
    public static Trainer With(Func<TrainerOptions, ITrainingData> data, bool medZooConvolutions = false) => new((options, device, _) =>
    {
        var model = new TinySegNet(1, 2, medZooConvolutions);
        model.to(device);
        return new TrainingComponents
        {
            Model = model,
            ModelSpec = new CheckpointModel
            {
                Name = "TINY", InChannels = 1, Classes = 2, ParameterCount = model.parameters().Sum(p => p.numel()),
            },
            Loss = LossFactory.Create(options.Loss, options.LossOptions),
            Data = data(options),
        };
    });
}
