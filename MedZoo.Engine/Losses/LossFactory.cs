namespace MedZoo.Engine.Losses;

/// <summary>A loss the factory can build: its canonical name, a one-line description and accepted aliases.</summary>
/// <param name="Name">Canonical name (snake_case), e.g. "dice_ce".</param>
/// <param name="Description">What it computes, for CLI help and the dashboard.</param>
/// <param name="Aliases">Other accepted spellings (MedicalZooPytorch class names, MONAI names).</param>
public sealed record LossInfo(string Name, string Description, IReadOnlyList<string> Aliases);

/// <summary>
/// Builds losses by name for the CLI, trainer and dashboard. Names are case-insensitive and ignore
/// '_', '-', '.', spaces and a trailing "Loss", so "dice_ce", "DiceCE" and "DiceCELoss" are one name, and
/// MedicalZooPytorch's class names ("DiceLoss", "GeneralizedDiceLoss", "BCEDiceLoss",
/// "WeightedCrossEntropyLoss") work as they are.
/// </summary>
public static class LossFactory
{
    private sealed record Entry(LossInfo Info, Func<LossOptions, SegmentationLoss> Create);

    private static readonly Entry[] Entries =
    [
        new(new("dice", "Soft Dice (Milletari 2016); plain or squared denominator, MONAI flags", ["soft_dice"]),
            o => new DiceLoss(o)),
        new(new("generalized_dice", "Generalized Dice, classes weighted by inverse squared volume (Sudre 2017)", ["gdl"]),
            o => new GeneralizedDiceLoss(o)),
        new(new("dice_ce", "Dice + cross-entropy (nnU-Net default; BCE with sigmoid)", ["dice_cross_entropy"]),
            o => new DiceCELoss(o)),
        new(new("focal", "Focal loss, down-weights easy voxels by (1 - p)^gamma (Lin 2017)", []),
            o => new FocalLoss(o)),
        new(new("dice_focal", "Dice + focal", []),
            o => new DiceFocalLoss(o)),
        new(new("tversky", "Tversky, alpha weighs false positives and beta false negatives (Salehi 2017)", []),
            o => new TverskyLoss(o)),
        new(new("weighted_ce", "Class-weighted cross-entropy; inverse class frequency when no weights are given", ["wce", "weighted_cross_entropy"]),
            o => new WeightedCrossEntropyLoss(o)),
        new(new("bce_dice", "Binary cross-entropy + Dice over sigmoid channels (MedicalZoo's BCEDiceLoss)", []),
            o => new BCEDiceLoss(o)),
        new(new("vae", "RESNET3DVAE: segmentation loss + 0.1 L2 reconstruction + 0.1 KL (Myronenko 2018)", ["resnet3dvae"]),
            CreateVae),
        // MedicalZoo's default configuration: its arithmetic with the background scored. DiceLoss with
        // LossOptions.MedicalZooDice set directly keeps the caller's IncludeBackground instead.
        new(new("medicalzoo_dice", "MedicalZooPytorch's Dice as it trains by default: batch-pooled, squared, background and absent classes scored", ["medzoo_dice"]),
            o =>
            {
                var copy = o.Clone();
                copy.MedicalZooDice = true;
                copy.IncludeBackground = true;
                return new DiceLoss(copy);
            }),
    ];

    /// <summary>Every loss the factory builds, in a stable order.</summary>
    public static IReadOnlyList<LossInfo> Available { get; } = Entries.Select(e => e.Info).ToArray();

    /// <summary>Canonical names, in the order of <see cref="Available"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Info.Name).ToArray();

    /// <summary>
    /// Builds the loss called <paramref name="name"/> with <paramref name="options"/> (null → defaults;
    /// validated, and copied by the loss). Throws <see cref="ArgumentException"/> listing the valid names
    /// for an unknown name, or naming the bad option.
    /// </summary>
    public static SegmentationLoss Create(string name, LossOptions? options = null) =>
        Find(name).Create(options ?? new LossOptions());

    /// <summary>The canonical name for <paramref name="name"/> or an alias; throws like <see cref="Create"/> when unknown.</summary>
    public static string CanonicalName(string name) => Find(name).Info.Name;

    /// <summary>True if <paramref name="name"/> names a loss.</summary>
    public static bool IsKnown(string? name) => name is not null && Lookup(name) is not null;

    private static Entry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Lookup(name) ?? throw new ArgumentException(
            $"unknown loss \"{name}\"; valid names: {string.Join(", ", Names)}", nameof(name));
    }

    private static Entry? Lookup(string name)
    {
        var key = Normalize(name);
        return Entries.FirstOrDefault(e => Normalize(e.Info.Name) == key || e.Info.Aliases.Any(a => Normalize(a) == key));
    }

    private static string Normalize(string name)
    {
        var key = new string(name.Where(ch => ch is not ('_' or '-' or '.' or ' ')).ToArray()).ToLowerInvariant();
        return key.Length > 4 && key.EndsWith("loss", StringComparison.Ordinal) ? key[..^4] : key;
    }

    private static SegmentationLoss CreateVae(LossOptions options)
    {
        var inner = Lookup(options.VaeSegmentationLoss)
            ?? throw new ArgumentException($"LossOptions.VaeSegmentationLoss \"{options.VaeSegmentationLoss}\" is not a loss; valid names: {string.Join(", ", Names.Where(n => n != "vae"))}", nameof(options));
        if (inner.Info.Name == "vae")
            throw new ArgumentException("LossOptions.VaeSegmentationLoss cannot be \"vae\" itself", nameof(options));
        return new VaeLoss(inner.Create(options), options);
    }
}
