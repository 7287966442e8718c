using System.Diagnostics;
using System.Runtime.InteropServices;
using MedZoo.Engine.Data;
using MedZoo.Engine.Inference;
using MedZoo.Engine.IO;
using MedZoo.Engine.Metrics;
using MedZoo.Web.Datasets;
using MedZoo.Web.Imaging;
using MedZoo.Web.Runs;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Reviews;

/// <summary>What became of a review the runner was given.</summary>
public enum ReviewOutcome
{
    /// <summary>It was not queued (deleted, finished, or waiting for a user to queue it again): nothing was done.</summary>
    Skipped,
    /// <summary>Predicted, scored and its files stored.</summary>
    Completed,
    /// <summary>Failed; its reason is on the review.</summary>
    Failed,
    /// <summary>Cancelled because its process is stopping: it is queued again, to run at the next start or on another worker.</summary>
    Requeued,
}

/// <summary>
/// One review's work, the same in both deployment shapes (the embedded <see cref="ReviewWorker"/> and a cluster
/// worker's Hangfire job call it): loads the checkpoint from the store, reads the subject (a validation subject
/// regenerated or read as the run's dataset defines it, or an upload fetched from <see cref="IReviewFiles"/>), predicts
/// the whole volume with the engine's sliding window (progress saved and published as windows complete), scores it with
/// the engine's metrics when there is a ground truth, and stores the files of <see cref="ReviewStorage"/> through
/// <see cref="IReviewFiles"/>, all at once when it succeeds. A failure is recorded on the review with its reason. Before any
/// input is read, the memory the review will take is estimated from the volume's size and refused over the budget
/// (<see cref="DataAccessOptions.MemoryBudgetBytes"/>).
/// </summary>
public sealed class ReviewRunner(
    IReviewStore repository, IRunStore runs, IRunCheckpointStore checkpoints, IReviewFiles files,
    ReviewNotifier notifier, IOptions<ReviewOptions> options, IOptions<DataAccessOptions> access, DatasetService datasets,
    TimeProvider clock, ILogger<ReviewRunner> logger)
{
    /// <summary>
    /// Runs queued review <paramref name="id"/> on <paramref name="device"/> ("auto", "cpu", "cuda:0", …) to completion or
    /// failure (synchronous: the caller's thread); <paramref name="worker"/> names the cluster worker that runs it, if any.
    /// </summary>
    public ReviewOutcome Execute(string id, string device, CancellationToken cancellation, string? worker = null)
    {
        var review = repository.Get(id);
        // Only queued reviews run: an interrupted or failed one waits for a user to queue it again.
        if (review is null || review.Status != ReviewStatus.Queued) return ReviewOutcome.Skipped;
        var watch = Stopwatch.StartNew();
        review.Status = ReviewStatus.Running;
        review.WindowsDone = 0;
        review.Attempts++;
        review.Worker = worker;
        Save(review);
        try
        {
            Predict(review, device, cancellation);
            review.Status = ReviewStatus.Completed;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            review.Status = ReviewStatus.Queued; // run again at the next start, or by another worker
            review.Attempts--; // cut short by a stop, not by the review itself
            Save(review);
            return ReviewOutcome.Requeued;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Review {Id} failed", id);
            review.Status = ReviewStatus.Failed;
            review.Reason = e is UploadRejectedException or ArgumentException or DatasetException or VolumeFormatException or InvalidOperationException
                ? e.Message : $"{e.GetType().Name}: {e.Message}";
        }
        finally
        {
            // The prediction's native memory was kept for reuse while it ran (MallocTuning): give it back.
            MedZoo.Engine.Devices.MallocTuning.Trim();
        }
        review.Seconds = watch.Elapsed.TotalSeconds;
        review.FinishedAt = clock.GetUtcNow().UtcDateTime;
        Save(review);
        return review.Status == ReviewStatus.Completed ? ReviewOutcome.Completed : ReviewOutcome.Failed;
    }

    private void Save(ReviewRecord review)
    {
        repository.Save(review);
        notifier.Publish(review);
    }

    private void Predict(ReviewRecord review, string device, CancellationToken cancellation)
    {
        var o = options.Value;
        var run = runs.Get(review.RunId) ?? throw new InvalidOperationException($"run '{review.RunId}' no longer exists");
        using var checkpoint = checkpoints.OpenRead(review.RunId, review.CheckpointKind)
            ?? throw new InvalidOperationException($"run '{run.Name}' has no '{review.CheckpointKind}' checkpoint any more");
        using var predictor = SegmentationPredictor.Load(checkpoint, device);
        var header = predictor.Header;
        var classNames = header.ClassNames.Count > 0 ? header.ClassNames : Enumerable.Range(0, header.Model.Classes).Select(i => $"class {i}").ToList();
        var classes = classNames.Count;
        var labelValues = header.LabelValues is { Count: > 0 } lv && lv.Count == classes ? lv.ToArray() : Enumerable.Range(0, classes).ToArray();

        // Written to a local folder and stored all at once when everything is there (a failure leaves nothing half-written).
        using var output = files.Stage(ReviewFileArea.Reviews, review.Id);

        // The inputs as volumes with their geometry, and the ground truth as class indices (file voxel order).
        List<Volume> inputs;
        byte[]? truth = null;
        if (review.Source == ReviewSource.Validation)
        {
            var d = ReviewService.ReadableDataset(run, datasets);
            var definition = DatasetCatalog.Get(d.Name);
            var scan = definition.Scan(d);
            var source = scan.Subjects.FirstOrDefault(s => s.Id == review.SubjectId)
                ?? throw new InvalidOperationException($"dataset '{d.Name}' has no subject '{review.SubjectId}' any more");
            CheckBudget(ValidationVoxels(d, definition, source), scan.Modalities.Count, classes);
            var raw = definition.Load(scan, source, VolumeFileReader.Instance, d);
            int[] shape = [raw.Size.W, raw.Size.H, raw.Size.D];
            inputs = raw.Images.Select(img => Volume.FromArray<float>(img, shape, raw.Geometry)).ToList();
            truth = raw.Label;
            // The input as a file, so that its geometry can be checked against the prediction's.
            var all = raw.Images.SelectMany(i => i).ToArray();
            var input = Volume.FromArray<float>(all, inputs.Count == 1 ? shape : [.. shape, inputs.Count], raw.Geometry);
            VolumeIO.Write(input, output.File("input.nii.gz"), WriteOptions(raw.Geometry));
        }
        else
        {
            var upload = repository.GetUpload(review.SubjectId) ?? throw new InvalidOperationException($"upload '{review.SubjectId}' was removed");
            // Its files where a path reads them (a header may name its data file): the upload's folder, or a copy from the shared store.
            using var local = files.Fetch(ReviewFileArea.Uploads, upload.Id);
            CheckBudget(upload.Images.Select(local.File).ToList(), classes);
            inputs = upload.Images.Select(n => UploadService.CheckAndRead(local.File(n), n, local.Folder, o)).ToList();
            if (upload.Label is { } labelName)
            {
                var label = UploadService.CheckAndRead(local.File(labelName), labelName, local.Folder, o);
                var mapping = new LabelMapping(classNames, labelValues.Select((v, i) => (v, i)).ToDictionary(p => (long)p.v, p => p.i));
                truth = mapping.Map(label, upload.Name, labelName);
            }
        }

        var first = inputs[0];
        var (x, y, z) = first.Size;
        review.Shape = [x, y, z];
        review.Spacing = first.Geometry.Spacing.ToArray();
        review.Orientation = first.Geometry.Orientation;
        review.Modalities = header.Modalities.ToList();
        review.ClassNames = classNames.ToList();
        review.HasGroundTruth = truth is not null;

        var lastPublish = Stopwatch.StartNew();
        var predictionOptions = new PredictionOptions
        {
            Overlap = o.Overlap, WindowsPerBatch = o.WindowsPerBatch, Probabilities = true,
            FlipAxes = review.TestTimeAugmentation ? PredictionOptions.AllAxes : [],
        };
        var prediction = predictor.Predict(inputs, predictionOptions, p =>
        {
            review.WindowsDone = p.WindowsDone;
            review.WindowsTotal = p.WindowsTotal;
            if (lastPublish.ElapsedMilliseconds >= 250 || p.WindowsDone == p.WindowsTotal)
            {
                lastPublish.Restart();
                Save(review);
            }
        }, cancellation);

        VolumeIO.Write(prediction.Labels, output.File("prediction.nii.gz"), WriteOptions(first.Geometry));
        var predicted = ClassIndices(prediction.Labels, labelValues);
        File.WriteAllBytes(output.File("prediction.u8"), predicted);
        if (truth is not null) File.WriteAllBytes(output.File("truth.u8"), truth);
        WriteProbabilityMaps(output, review, prediction.Probabilities!, classes);

        // Display levels of each modality (one file per channel).
        var channels = inputs.Count == 1 ? Enumerable.Range(0, first.Channels).Select(first.ChannelToFloatArray) : inputs.Select(v => v.ChannelToFloatArray(0));
        review.DisplayRanges = [];
        var c = 0;
        foreach (var values in channels)
        {
            var display = DisplayImage.Quantize(values);
            File.WriteAllBytes(output.File($"image-{c++}.u16"), MemoryMarshal.AsBytes(display.Levels.AsSpan()).ToArray());
            review.DisplayRanges.Add([display.Min, display.Max, display.WindowLow, display.WindowHigh]);
        }

        review.Metrics = Score(predicted, truth, (x, y, z), first.Geometry, classNames, review.SubjectName);
        review.MeanDice = truth is null ? double.NaN : MeanForeground(review.Metrics);
        File.WriteAllText(output.File("metrics.csv"), MetricsCsv.Write(review.Metrics));
        output.Commit();
    }

    /// <summary>One byte per class and voxel (quantised probabilities) and the entropy, each as a display file.</summary>
    private static void WriteProbabilityMaps(ReviewFolder output, ReviewRecord review, Volume probabilities, int classes)
    {
        var values = probabilities.Raw<float>();
        var voxels = probabilities.VoxelsPerChannel;
        if (probabilities.Channels != classes)
            throw new InvalidOperationException($"the network predicted {probabilities.Channels} classes but the checkpoint names {classes}");
        for (var c = 0; c < classes; c++)
            File.WriteAllBytes(output.File($"probability-{c}.u8"), ProbabilityMaps.Quantize(values.Slice(c * voxels, voxels)));
        File.WriteAllBytes(output.File("entropy.u8"), ProbabilityMaps.Entropy(values, classes));
        review.HasProbabilities = true;
    }

    /// <summary>
    /// Bytes a review of a volume holds at its peak, an upper bound: the inputs as read, their
    /// float copies and the normalized copy the network reads (16 bytes per voxel and channel), the
    /// sliding window's class accumulators and probabilities (8 per class), the probabilities copied
    /// out of torch and into a volume (8 per class) and quantised for display (1 per class), and the
    /// weights, labels, ground truth, entropy and display levels (17).
    /// </summary>
    public static long EstimateBytes(long voxels, int channels, int classes)
    {
        var perVoxel = 16L * channels + 17L * classes + 17;
        return voxels > long.MaxValue / perVoxel ? long.MaxValue : voxels * perVoxel;
    }

    /// <summary>Refuses a volume whose review would take more memory than the budget, before anything is read.</summary>
    /// <exception cref="InvalidOperationException">Over the budget (the message says by how much and which setting).</exception>
    public void CheckBudget(long voxels, int channels, int classes)
    {
        var bytes = EstimateBytes(voxels, channels, classes);
        var budget = access.Value.EffectiveMemoryBudget();
        if (bytes > budget)
            throw new InvalidOperationException(
                $"this volume ({voxels:N0} voxels, {channels} channel(s), {classes} classes) would take about {ByteSize.Format(bytes)} of memory to review, " +
                $"more than the server's budget of {ByteSize.Format(budget)} ({DataAccessOptions.Section}:{nameof(DataAccessOptions.MemoryBudgetBytes)}); " +
                "review a smaller volume, or ask an admin to raise the budget");
    }

    private void CheckBudget(IReadOnlyList<string> files, int classes)
    {
        long voxels = 0;
        var channels = 0;
        foreach (var file in files)
        {
            VolumeHeader header;
            try
            {
                header = VolumeIO.ReadHeader(file);
            }
            catch (Exception e) when (e is VolumeFormatException or IOException or InvalidDataException or ArgumentException or OverflowException or FormatException or NotSupportedException)
            {
                throw new UploadRejectedException($"{Path.GetFileName(file)}: not a readable volume header: {e.Message}");
            }
            voxels = Math.Max(voxels, header.Shape.Take(3).Aggregate(1L, (a, b) => a * b));
            channels += (int)Math.Min(int.MaxValue, header.Shape.Skip(3).Aggregate(1L, (a, b) => a * b));
        }
        CheckBudget(voxels, channels, classes);
    }

    /// <summary>Voxels of one subject of a dataset, from the options (generated data) or its first image's header, without reading voxels.</summary>
    /// <exception cref="DatasetException">The subject is missing or its header cannot be read.</exception>
    public static long SubjectVoxels(DatasetOptions d, string subjectId)
    {
        ArgumentNullException.ThrowIfNull(d);
        var definition = DatasetCatalog.Get(d.Name);
        if (!definition.RequiresPath) return ValidationVoxels(d, definition, null);
        var source = definition.Scan(d).Subjects.FirstOrDefault(s => s.Id == subjectId)
            ?? throw new DatasetException($"dataset '{d.Name}' has no subject '{subjectId}'");
        return ValidationVoxels(d, definition, source);
    }

    private static long ValidationVoxels(DatasetOptions d, IDatasetDefinition definition, SubjectSource? source)
    {
        if (!definition.RequiresPath) return (long)d.SyntheticSize[0] * d.SyntheticSize[1] * d.SyntheticSize[2];
        try
        {
            return VolumeIO.ReadHeader(source!.Images[0].Path).Shape.Take(3).Aggregate(1L, (a, b) => a * b);
        }
        catch (Exception e) when (e is VolumeFormatException or IOException or InvalidDataException or ArgumentException or OverflowException or FormatException or NotSupportedException)
        {
            throw new DatasetException($"subject '{source!.Id}': {Path.GetFileName(source.Images[0].Path)}: the header cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// Per-class rows from the engine's metrics over the whole volume (file order (k, j, i) is the
    /// C-order (D, H, W) the metrics take), plus false-positive and false-negative voxel counts.
    /// </summary>
    public static List<ReviewClassMetrics> Score(byte[] predicted, byte[]? truth, (int X, int Y, int Z) dims, VolumeGeometry geometry,
        IReadOnlyList<string> classNames, string subject)
    {
        var spacing = VoxelSpacing.FromGeometry(geometry);
        var shape = new VolumeShape(dims.Z, dims.Y, dims.X);
        if (truth is null)
        {
            var volumes = SegmentationMetrics.ClassVolumesMm3<byte>(predicted, classNames.Count, spacing);
            var counts = new long[classNames.Count];
            foreach (var p in predicted) counts[p]++;
            return classNames.Select((n, i) => new ReviewClassMetrics
            {
                Class = i, Name = n, PredictedVoxels = counts[i], PredictedVolumeMm3 = volumes[i],
            }).ToList();
        }
        var metrics = new SegmentationMetrics(classNames.Count, classNames);
        var scores = metrics.Add<byte>(predicted, truth, shape, spacing, subject);
        return scores.Classes.Select(s =>
        {
            var (fp, fn) = ErrorMap.Count(predicted, truth, s.Class);
            return new ReviewClassMetrics
            {
                Class = s.Class, Name = s.Name, Presence = s.Presence.ToString(), Dice = s.Dice, Iou = s.Iou, Hd95 = s.Hd95,
                PredictedVoxels = s.PredictedVoxels, GroundTruthVoxels = s.GroundTruthVoxels,
                PredictedVolumeMm3 = s.PredictedVolumeMm3, GroundTruthVolumeMm3 = s.GroundTruthVolumeMm3,
                FalsePositiveVoxels = fp, FalseNegativeVoxels = fn,
            };
        }).ToList();
    }

    /// <summary>Mean Dice of the foreground classes where it is defined (the engine's rule).</summary>
    public static double MeanForeground(IReadOnlyList<ReviewClassMetrics> rows)
    {
        var defined = rows.Skip(1).Select(r => r.Dice).Where(d => !double.IsNaN(d)).ToList();
        return defined.Count == 0 ? double.NaN : defined.Average();
    }

    private static byte[] ClassIndices(Volume labels, int[] labelValues)
    {
        var index = labelValues.Select((v, i) => (v, i)).ToDictionary(p => (double)p.v, p => (byte)p.i);
        var result = new byte[labels.VoxelsPerChannel];
        for (var i = 0; i < result.Length; i++) result[i] = index[labels.GetValue(i)];
        return result;
    }

    /// <summary>NIfTI-1 unless its float32 affine would lose precision; then NIfTI-2 keeps the geometry exact.</summary>
    internal static VolumeWriteOptions WriteOptions(VolumeGeometry geometry) =>
        geometry.Affine.All(v => (double)(float)v == v) ? VolumeWriteOptions.Default : new VolumeWriteOptions { NiftiVersion = 2 };
}
