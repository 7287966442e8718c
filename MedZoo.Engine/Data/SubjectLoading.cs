namespace MedZoo.Engine.Data;

/// <summary>
/// Loads a dataset's subjects in parallel, the one way <see cref="SegmentationDataset.Load"/>,
/// <see cref="DatasetCheck.Run"/> and <see cref="DatasetMemory"/> (which budgets for it) count on:
/// up to <see cref="Threads"/> subjects at once, results in subject order, and every subject's
/// <see cref="DatasetException"/> collected (in subject order) instead of stopping at the first.
/// </summary>
internal static class SubjectLoading
{
    /// <summary>Subjects read at once: <see cref="DatasetOptions.LoadThreads"/>, or one per processor when it is 0.</summary>
    public static int Threads(DatasetOptions options) => options.LoadThreads > 0 ? options.LoadThreads : Environment.ProcessorCount;

    /// <summary>
    /// Runs <paramref name="load"/> for every subject of <paramref name="scan"/>. A subject whose load
    /// throws <see cref="DatasetException"/> has a null result and its errors in <c>Errors</c>; any other
    /// exception (a bug, or cancellation) propagates. <paramref name="done"/> is called after each subject,
    /// loaded or not, on the thread that loaded it.
    /// </summary>
    public static (T?[] Results, IReadOnlyList<string> Errors) Load<T>(DatasetScan scan, DatasetOptions options, CancellationToken cancellation,
        Func<SubjectSource, T> load, Action<SubjectSource>? done = null) where T : class
    {
        ArgumentNullException.ThrowIfNull(scan);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(load);
        var results = new T?[scan.Subjects.Count];
        var errors = new IReadOnlyList<string>?[scan.Subjects.Count];
        var parallel = new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = Threads(options) };
        Parallel.For(0, scan.Subjects.Count, parallel, i =>
        {
            var source = scan.Subjects[i];
            try
            {
                results[i] = load(source);
            }
            catch (DatasetException e)
            {
                errors[i] = e.Errors;
            }
            done?.Invoke(source);
        });
        return (results, errors.OfType<IReadOnlyList<string>>().SelectMany(e => e).ToList());
    }
}
