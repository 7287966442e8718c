using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using MedZoo.Engine.Data.Sampling;
using MedZoo.Engine.Data.Transforms;

namespace MedZoo.Engine.Data;

/// <summary>
/// Produces the batches of an epoch on background threads into a bounded queue, so training does
/// not wait on data. Batch b of epoch e is built only from the generator derived from
/// (seed, e, b) — each sample from (seed, e, b, s) — so a seed gives the same batches in the same
/// order whatever the number of workers or their timing. Batches are plain arrays
/// (<see cref="PatchBatch"/>); the consumer turns them into tensors. The time the consumer spends
/// waiting for data is measured (<see cref="PatchEpoch.WaitTime"/>, <see cref="TotalWaitTime"/>)
/// so the trainer can report its "data wait %".
/// <code>
/// using var loader = PatchLoader.ForTraining(dataset, sampling, augmentation, seed);
/// for (var epoch = 0; epoch &lt; epochs; epoch++)
/// {
///     using var batches = loader.StartEpoch(epoch, cancellation);
///     foreach (var batch in batches) { /* batch.ToTensors() inside the step's dispose scope */ }
///     log(batches.WaitFraction);
/// }
/// </code>
/// </summary>
public sealed class PatchLoader : IDisposable
{
    private readonly IReadOnlyList<Subject> _subjects;
    private readonly SamplingOptions _sampling;
    private readonly PatchSampler? _sampler;
    private readonly Augmenter? _augmenter;
    private readonly IReadOnlyList<(int Subject, int D, int H, int W)>? _grid;
    private readonly CancellationTokenSource _disposed = new();
    private readonly object _gate = new();
    private PatchEpoch? _current;
    private long _waitTicks, _batchesDelivered, _buildTicks, _reused;
    // Arrays of whole batches handed back by the consumer (Return), reused by the next batches instead
    // of a fresh 4+ MB large-object allocation per batch that only a full GC would reclaim.
    private readonly ConcurrentBag<(float[] Images, byte[]? Labels)> _spare = [];

    /// <summary>
    /// A loader over <paramref name="subjects"/>. Validates the options and the subjects now (same
    /// modalities and classes, labels present, patch fits or padding allowed) and throws
    /// <see cref="ArgumentException"/> or <see cref="DatasetException"/> naming the problem.
    /// </summary>
    /// <param name="subjects">Subjects to sample (labelled, except for the grid sampler).</param>
    /// <param name="sampling">Sampler, patch size, batch size, workers, prefetch.</param>
    /// <param name="augmentation">Augmentations (null or disabled = none; never applied by the grid sampler).</param>
    /// <param name="seed">Seed of every random draw.</param>
    /// <param name="samplesPerEpoch">Patches per epoch for the random samplers; null = <see cref="SamplingOptions.SamplesTrain"/>.</param>
    public PatchLoader(IReadOnlyList<Subject> subjects, SamplingOptions sampling, AugmentationOptions? augmentation = null, int seed = 0, int? samplesPerEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(subjects);
        ArgumentNullException.ThrowIfNull(sampling);
        sampling.Validate();
        augmentation?.Validate();
        _sampling = sampling.Clone();
        _subjects = subjects.ToArray();
        Seed = seed;
        PatchSize = _sampling.Patch;
        Kind = _sampling.SamplerKind;
        CheckSubjects();
        Channels = _subjects[0].Channels;
        ClassCount = _subjects[0].ClassCount;
        if ((long)_sampling.BatchSize * Channels * PatchSize.Voxels > int.MaxValue / 2)
            throw new ArgumentException($"{nameof(SamplingOptions.BatchSize)} × channels × patch = {_sampling.BatchSize} × {Channels} × {PatchSize.Voxels} voxels is too large for one batch", nameof(sampling));
        if (Kind == SamplerKind.Grid)
        {
            _grid = _subjects.SelectMany((s, i) => GridSampler.Origins(s.Size, PatchSize, _sampling.GridOverlap).Select(o => (i, o.D, o.H, o.W))).ToArray();
            SamplesPerEpoch = _grid.Count;
        }
        else
        {
            _sampler = new PatchSampler(_subjects, _sampling);
            if (augmentation is { Enabled: true }) _augmenter = new Augmenter(augmentation);
            var samples = samplesPerEpoch ?? _sampling.SamplesTrain;
            if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samplesPerEpoch), samples, "at least one sample per epoch");
            SamplesPerEpoch = (samples + _sampling.BatchSize - 1) / _sampling.BatchSize * _sampling.BatchSize;
        }
        BatchesPerEpoch = (SamplesPerEpoch + _sampling.BatchSize - 1) / _sampling.BatchSize;
    }

    /// <summary>A training loader over <paramref name="dataset"/>'s training subjects, <see cref="SamplingOptions.SamplesTrain"/> patches per epoch.</summary>
    public static PatchLoader ForTraining(SegmentationDataset dataset, SamplingOptions sampling, AugmentationOptions? augmentation, int seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Training.Count == 0) throw new DatasetException($"dataset '{dataset.Name}' has no training subjects");
        return new PatchLoader(dataset.Training, sampling, augmentation, seed);
    }

    /// <summary>
    /// A validation loader over the validation subjects: <see cref="SamplingOptions.SamplesVal"/>
    /// patches, no augmentation. Use the same epoch number every time to score the same patches.
    /// </summary>
    public static PatchLoader ForValidation(SegmentationDataset dataset, SamplingOptions sampling, int seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(sampling);
        if (dataset.Validation.Count == 0) throw new DatasetException($"dataset '{dataset.Name}' has no validation subjects (split {dataset.Options.Split})");
        return new PatchLoader(dataset.Validation, sampling, AugmentationOptions.None, seed, sampling.SamplesVal);
    }

    /// <summary>Seed of all draws.</summary>
    public int Seed { get; }

    /// <summary>The sampler in use.</summary>
    public SamplerKind Kind { get; }

    /// <summary>Patch size (D, H, W).</summary>
    public SpatialSize PatchSize { get; }

    /// <summary>C: modalities per patch.</summary>
    public int Channels { get; }

    /// <summary>K: classes of the labels.</summary>
    public int ClassCount { get; }

    /// <summary>Patches per epoch (rounded up to whole batches; for the grid, every grid patch).</summary>
    public int SamplesPerEpoch { get; }

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>Total time consumers waited for a batch, over every epoch.</summary>
    public TimeSpan TotalWaitTime => TimeSpan.FromTicks(Interlocked.Read(ref _waitTicks));

    /// <summary>Total worker time spent building batches, over every epoch.</summary>
    public TimeSpan TotalBuildTime => TimeSpan.FromTicks(Interlocked.Read(ref _buildTicks));

    /// <summary>Batches handed to consumers, over every epoch.</summary>
    public long BatchesDelivered => Interlocked.Read(ref _batchesDelivered);

    /// <summary>Batches built into arrays that an earlier batch gave back through <see cref="Return"/>.</summary>
    public long BatchesReused => Interlocked.Read(ref _reused);

    /// <summary>
    /// Hands a batch's arrays back for later batches of this loader to reuse. Call it when nothing
    /// reads <paramref name="batch"/>'s arrays any more (the trainer does once the step that copied
    /// them into tensors has ended); a batch can be returned once, and a batch of another loader or a
    /// shorter last batch is ignored. Returning is optional: batches never returned are collected as usual.
    /// </summary>
    /// <exception cref="InvalidOperationException">The batch was already returned.</exception>
    public void Return(PatchBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!batch.MarkReturned())
            throw new InvalidOperationException("this batch was already returned to its loader: its arrays may already hold another batch");
        var p = checked((int)PatchSize.Voxels);
        if (batch.Images.Length != _sampling.BatchSize * Channels * p || batch.PatchSize != PatchSize) return;
        if (batch.Labels is not null && batch.Labels.Length != _sampling.BatchSize * p) return;
        // Enough for the queue, the batches being built and the one being trained on; more would only hold memory.
        if (_spare.Count < _sampling.Prefetch + _sampling.EffectiveWorkers + 2) _spare.Add((batch.Images, batch.Labels));
    }

    /// <summary>
    /// Builds batch <paramref name="batchIndex"/> of <paramref name="epoch"/> on the calling thread.
    /// Deterministic: the same arguments always give the same batch. Workers call this; tests and
    /// single-threaded callers may too.
    /// </summary>
    public PatchBatch CreateBatch(int epoch, int batchIndex)
    {
        if ((uint)batchIndex >= (uint)BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(batchIndex), batchIndex, $"epoch has {BatchesPerEpoch} batches");
        var first = batchIndex * _sampling.BatchSize;
        var count = Math.Min(_sampling.BatchSize, SamplesPerEpoch - first);
        var p = checked((int)PatchSize.Voxels);
        var labeled = _subjects.All(s => s.HasLabel);
        float[] images;
        byte[]? labels;
        if (count == _sampling.BatchSize && _spare.TryTake(out var spare) && (spare.Labels is not null) == labeled)
        {
            // Every patch writes all its voxels, but a cleared buffer keeps a batch independent of its array's history.
            images = spare.Images;
            labels = spare.Labels;
            Array.Clear(images);
            if (labels is not null) Array.Clear(labels);
            Interlocked.Increment(ref _reused);
        }
        else
        {
            images = new float[count * Channels * p];
            labels = labeled ? new byte[count * p] : null;
        }
        var origins = new PatchOrigin[count];
        for (var s = 0; s < count; s++)
        {
            var image = images.AsSpan(s * Channels * p, Channels * p);
            var label = labels is null ? Span<byte>.Empty : labels.AsSpan(s * p, p);
            if (_grid is not null)
            {
                var (subject, d, h, w) = _grid[first + s];
                PatchExtractor.Extract(_subjects[subject], d, h, w, PatchSize, SpatialTransform.Identity, image, label);
                origins[s] = new PatchOrigin(_subjects[subject].Id, d, h, w);
                continue;
            }
            var rng = DeterministicRandom.Derive(Seed, epoch, batchIndex, s);
            var request = _sampler!.Next(rng);
            var transform = _augmenter?.DrawSpatial(PatchSize, rng) ?? SpatialTransform.Identity;
            var subjectRef = _subjects[request.Subject];
            PatchExtractor.Extract(subjectRef, request.D, request.H, request.W, PatchSize, transform, image, label);
            _augmenter?.ApplyIntensity(image, Channels, PatchSize, rng);
            origins[s] = new PatchOrigin(subjectRef.Id, request.D, request.H, request.W, request.AnchorClass, request.Fallback, !transform.IsIdentity);
        }
        return new PatchBatch(images, labels, count, Channels, PatchSize, origins);
    }

    /// <summary>
    /// Starts building epoch <paramref name="epoch"/>'s batches on the worker threads and returns the
    /// stream to read them from, in batch order. Only one epoch runs at a time: starting another
    /// stops the previous one. Dispose the returned epoch (or read it to the end) before disposing
    /// the loader.
    /// </summary>
    public PatchEpoch StartEpoch(int epoch, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        lock (_gate)
        {
            _current?.Dispose();
            _current = new PatchEpoch(this, epoch, _sampling.EffectiveWorkers, _sampling.Prefetch, cancellation, _disposed.Token);
            return _current;
        }
    }

    /// <summary>Stops any running epoch and waits for its workers.</summary>
    public void Dispose()
    {
        if (_disposed.IsCancellationRequested) return;
        _disposed.Cancel();
        lock (_gate) _current?.Dispose();
        _disposed.Dispose();
    }

    internal void RecordWait(long ticks) => Interlocked.Add(ref _waitTicks, ticks);

    internal void RecordDelivered() => Interlocked.Increment(ref _batchesDelivered);

    internal void RecordBuild(long ticks) => Interlocked.Add(ref _buildTicks, ticks);

    /// <summary>
    /// Measures how fast batches are produced: runs <paramref name="batches"/> batches through the
    /// background workers with a consumer that only takes them, and reports patches per second (the
    /// <c>bench</c> verb and <c>dataset bench</c> call this).
    /// </summary>
    public static LoaderBenchmark Benchmark(IReadOnlyList<Subject> subjects, SamplingOptions sampling, AugmentationOptions? augmentation,
        int batches = 32, int seed = 0, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batches, 1);
        ArgumentNullException.ThrowIfNull(sampling);
        var options = sampling.Clone();
        if (options.SamplerKind != SamplerKind.Grid) options.SamplesTrain = batches * options.BatchSize;
        using var loader = new PatchLoader(subjects, options, augmentation, seed);
        var clock = Stopwatch.StartNew();
        var patches = 0L;
        var taken = 0;
        using (var epoch = loader.StartEpoch(0, cancellation))
        {
            foreach (var batch in epoch)
            {
                patches += batch.BatchSize;
                if (++taken >= batches) break;
            }
        }
        clock.Stop();
        return new LoaderBenchmark(patches, clock.Elapsed, patches / Math.Max(clock.Elapsed.TotalSeconds, 1e-9),
            options.EffectiveWorkers, loader.PatchSize, loader.Channels, augmentation is { Enabled: true }, loader.TotalBuildTime);
    }

    private void CheckSubjects()
    {
        if (_subjects.Count == 0) throw new DatasetException("the patch loader needs at least one subject");
        var first = _subjects[0];
        var errors = new List<string>();
        foreach (var s in _subjects)
        {
            if (!s.Modalities.SequenceEqual(first.Modalities, StringComparer.Ordinal))
                errors.Add($"subject '{s.Id}' has modalities {string.Join(", ", s.Modalities)}, subject '{first.Id}' has {string.Join(", ", first.Modalities)}");
            if (s.ClassCount != first.ClassCount)
                errors.Add($"subject '{s.Id}' has {s.ClassCount} classes, subject '{first.Id}' has {first.ClassCount}");
            if (Kind != SamplerKind.Grid && !s.HasLabel)
                errors.Add($"subject '{s.Id}' has no label map; the {_sampling.Sampler} sampler needs labels");
            if (!_sampling.PadToPatch && (s.Size.D < PatchSize.D || s.Size.H < PatchSize.H || s.Size.W < PatchSize.W))
                errors.Add($"subject '{s.Id}' ({s.Size}) is smaller than the patch {PatchSize} and padding is off ({nameof(SamplingOptions.PadToPatch)} = false)");
        }
        if (errors.Count > 0) throw new DatasetException(errors);
    }
}

/// <summary>What <see cref="PatchLoader.Benchmark"/> measured.</summary>
/// <param name="Patches">Patches produced.</param>
/// <param name="Elapsed">Wall time from start to the last batch taken.</param>
/// <param name="PatchesPerSecond">Patches / elapsed seconds.</param>
/// <param name="Workers">Worker threads used.</param>
/// <param name="PatchSize">Patch size.</param>
/// <param name="Channels">Modalities per patch.</param>
/// <param name="Augmented">Whether augmentation was on.</param>
/// <param name="BuildTime">Total worker time spent building batches.</param>
public sealed record LoaderBenchmark(long Patches, TimeSpan Elapsed, double PatchesPerSecond, int Workers, SpatialSize PatchSize, int Channels, bool Augmented, TimeSpan BuildTime);

/// <summary>
/// The batches of one epoch, read in order (<see cref="Take"/> or <c>foreach</c>) while workers
/// build the next ones into a bounded queue. Dispose it to stop the workers early (breaking out of
/// a <c>foreach</c> does not stop them; disposing does).
/// </summary>
public sealed class PatchEpoch : IEnumerable<PatchBatch>, IDisposable
{
    private readonly PatchLoader _loader;
    private readonly Channel<PatchBatch> _queue;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stop;
    private readonly Dictionary<int, PatchBatch> _finished = [];
    private readonly Task[] _workers;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _claimed = -1;
    private int _nextToQueue;
    private long _waitTicks;
    private int _delivered;
    private bool _disposed;

    internal PatchEpoch(PatchLoader loader, int epoch, int workers, int prefetch, CancellationToken cancellation, CancellationToken loaderDisposed)
    {
        _loader = loader;
        Epoch = epoch;
        Count = loader.BatchesPerEpoch;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation, loaderDisposed);
        // At most `prefetch` batches are claimed but not yet taken, so the queue never overflows and
        // workers never run ahead of the consumer by more than that. A worker takes a slot before it
        // claims a batch index, so the slots always belong to the lowest untaken indices: the batch
        // the consumer waits for is always being built (no reorder deadlock).
        _slots = new SemaphoreSlim(prefetch, prefetch);
        _queue = Channel.CreateBounded<PatchBatch>(new BoundedChannelOptions(prefetch) { SingleReader = true, SingleWriter = false });
        _workers = Enumerable.Range(0, Math.Min(workers, Math.Max(1, Count)))
            .Select(_ => Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))
            .ToArray();
    }

    /// <summary>The epoch number (part of every draw's seed).</summary>
    public int Epoch { get; }

    /// <summary>Batches in the epoch.</summary>
    public int Count { get; }

    /// <summary>Batches taken so far.</summary>
    public int Delivered => Volatile.Read(ref _delivered);

    /// <summary>Time the consumer spent waiting for batches in this epoch.</summary>
    public TimeSpan WaitTime => TimeSpan.FromTicks(Interlocked.Read(ref _waitTicks));

    /// <summary>Time since the epoch started.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Fraction of the epoch's elapsed time the consumer spent waiting for data (the trainer's "data wait %" / 100).</summary>
    public double WaitFraction => Elapsed.Ticks > 0 ? Math.Min(1, (double)WaitTime.Ticks / Elapsed.Ticks) : 0;

    /// <summary>
    /// The next batch in order, waiting (and counting the wait) if it is not ready; null after the
    /// last. Rethrows a worker's failure; throws <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    public PatchBatch? Take()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_queue.Reader.TryRead(out var batch))
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                bool more;
                try { more = _queue.Reader.WaitToReadAsync(_stop.Token).AsTask().GetAwaiter().GetResult(); }
                catch (Exception) when (Failure() is { } failure)
                {
                    // A worker failed (and stopped the others): report its exception, not the cancellation.
                    ExceptionDispatchInfo.Capture(failure).Throw();
                    throw;
                }
                if (!more)
                {
                    if (Failure() is { } failure) ExceptionDispatchInfo.Capture(failure).Throw();
                    _stop.Token.ThrowIfCancellationRequested();
                    return null;
                }
            }
            finally
            {
                var waited = Stopwatch.GetElapsedTime(start).Ticks;
                Interlocked.Add(ref _waitTicks, waited);
                _loader.RecordWait(waited);
            }
            if (!_queue.Reader.TryRead(out batch)) return Take();
        }
        _slots.Release();
        Interlocked.Increment(ref _delivered);
        _loader.RecordDelivered();
        return batch;
    }

    public IEnumerator<PatchBatch> GetEnumerator()
    {
        while (Take() is { } batch) yield return batch;
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Stops the workers and waits for them to finish.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Cancel();
        try { Task.WaitAll(_workers); }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException)) { }
        catch (AggregateException) { /* a worker failure was already delivered to the reader through the queue */ }
        _stop.Dispose();
        _slots.Dispose();
    }

    private async Task Work()
    {
        var token = _stop.Token;
        try
        {
            while (true)
            {
                await _slots.WaitAsync(token).ConfigureAwait(false);
                var index = Interlocked.Increment(ref _claimed);
                if (index >= Count)
                {
                    _slots.Release();
                    return;
                }
                var start = Stopwatch.GetTimestamp();
                var batch = _loader.CreateBatch(Epoch, index);
                _loader.RecordBuild(Stopwatch.GetElapsedTime(start).Ticks);
                lock (_finished)
                {
                    _finished[index] = batch;
                    while (_finished.Remove(_nextToQueue, out var next))
                    {
                        if (!_queue.Writer.TryWrite(next)) throw new InvalidOperationException("patch queue overflow (slot accounting broken)");
                        _nextToQueue++;
                    }
                    if (_nextToQueue == Count) _queue.Writer.TryComplete();
                }
                token.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            _queue.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _queue.Writer.TryComplete(e);
            try { _stop.Cancel(); } catch (ObjectDisposedException) { }
        }
    }

    private Exception? Failure()
    {
        var completion = _queue.Reader.Completion;
        return completion.IsFaulted ? completion.Exception?.InnerException : null;
    }
}
