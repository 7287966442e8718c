namespace MedZoo.Engine.Data;

/// <summary>
/// Which subjects train and which validate. Subjects are split whole (never patches of one subject
/// on both sides), deterministically by seed: ids are put in natural order first, so the split does
/// not depend on the order the file system lists folders in.
/// </summary>
/// <param name="Training">Training subject ids.</param>
/// <param name="Validation">Validation subject ids (whole held-out volumes).</param>
public sealed record DatasetSplit(IReadOnlyList<string> Training, IReadOnlyList<string> Validation)
{
    /// <summary>
    /// MedicalZoo's <c>--split</c>: a seeded shuffle, then the first round(n·split) subjects train and
    /// the rest validate. With split &lt; 1 and at least two subjects both sides get at least one;
    /// split = 1 leaves no validation subject.
    /// </summary>
    public static DatasetSplit ByRatio(IEnumerable<string> ids, double split, int seed)
    {
        if (!(split > 0 && split <= 1)) throw new ArgumentOutOfRangeException(nameof(split), split, "split must be in (0, 1]");
        var order = Shuffled(ids, seed);
        var n = order.Count;
        var train = (int)Math.Round(n * split, MidpointRounding.AwayFromZero);
        train = split < 1 && n >= 2 ? Math.Clamp(train, 1, n - 1) : Math.Clamp(train, Math.Min(1, n), n);
        return new DatasetSplit(order.Take(train).ToArray(), order.Skip(train).ToArray());
    }

    /// <summary>k-fold cross-validation: a seeded shuffle dealt round-robin into <paramref name="folds"/> folds; fold <paramref name="fold"/> validates, the others train.</summary>
    public static DatasetSplit KFold(IEnumerable<string> ids, int folds, int fold, int seed)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "k-fold needs at least 2 folds");
        if (fold < 0 || fold >= folds) throw new ArgumentOutOfRangeException(nameof(fold), fold, $"fold must be in 0..{folds - 1}");
        var order = Shuffled(ids, seed);
        if (order.Count < folds)
            throw new DatasetException($"{folds}-fold cross-validation needs at least {folds} subjects, the dataset has {order.Count}");
        var validation = order.Where((_, i) => i % folds == fold).ToArray();
        var training = order.Where((_, i) => i % folds != fold).ToArray();
        return new DatasetSplit(training, validation);
    }

    /// <summary>The split <paramref name="options"/> ask for: k-fold when <see cref="DatasetOptions.Folds"/> ≥ 2, else by ratio.</summary>
    public static DatasetSplit For(DatasetOptions options, IEnumerable<string> ids) =>
        options.Folds >= 2 ? KFold(ids, options.Folds, options.Fold, options.Seed) : ByRatio(ids, options.Split, options.Seed);

    private static List<string> Shuffled(IEnumerable<string> ids, int seed)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var list = ids.Order(Datasets.DatasetLayout.NaturalOrder).ToList();
        if (list.Distinct(StringComparer.Ordinal).Count() != list.Count)
            throw new ArgumentException("subject ids must be unique", nameof(ids));
        DeterministicRandom.Derive(seed, 0x53504C4954).Shuffle(list);
        return list;
    }
}
