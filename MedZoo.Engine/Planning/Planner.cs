using System.Globalization;
using MedZoo.Engine.Data;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Nets;

namespace MedZoo.Engine.Planning;

/// <summary>
/// Fields of a plan a person sets instead of the planner (null = let the planner choose). Each
/// overridden field keeps, in its reason, what the planner would have chosen.
/// </summary>
public sealed class PlanOverrides
{
    /// <summary>"RAS" or "native".</summary>
    public string? Orientation { get; set; }

    /// <summary>Target spacing in mm along R, A, S (i, j, k after reorientation).</summary>
    public double[]? TargetSpacing { get; set; }

    /// <summary>Image interpolation.</summary>
    public ImageInterpolation? ImageInterpolation { get; set; }

    /// <summary>Label interpolation.</summary>
    public LabelInterpolation? LabelInterpolation { get; set; }

    /// <summary>Intensity scheme by modality name ("ct" or "mr"), case-insensitive names.</summary>
    public Dictionary<string, string>? Intensity { get; set; }

    /// <summary>Patch (D, H, W).</summary>
    public int[]? PatchSize { get; set; }

    /// <summary>Batch size.</summary>
    public int? BatchSize { get; set; }

    /// <summary>Network depth (poolings of UNET3D_CICEK).</summary>
    public int? ModelDepth { get; set; }
}

/// <summary>Options of <see cref="Planner"/>.</summary>
public sealed class PlanOptions
{
    /// <summary>Model the patch is sized for (default UNET3D).</summary>
    public string Model { get; set; } = "UNET3D";

    /// <summary>Base filters of the model; null = its default.</summary>
    public int? BaseFilters { get; set; }

    /// <summary>Device to measure on: "auto" (default), "cpu", "cuda", "cuda:N".</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Memory training may use, in MB; 0 (default) = what the device reports (see <see cref="TorchPatchMemoryProbe"/>).</summary>
    public double MemoryBudgetMegabytes { get; set; }

    /// <summary>Largest patch in voxels (default 128³, nnU-Net's usual full-resolution patch): keeps CPU steps bearable when memory would allow more.</summary>
    public long MaxPatchVoxels { get; set; } = 128 * 128 * 128;

    /// <summary>Largest batch (default 16).</summary>
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>Fields set by a person.</summary>
    public PlanOverrides Overrides { get; set; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (!ModelZoo.TryGet(Model, out _)) throw new ArgumentException($"{nameof(Model)}: '{Model}' is not a model: use one of {string.Join(", ", ModelZoo.Names)}", nameof(Model));
        if (BaseFilters is <= 0) throw new ArgumentException($"{nameof(BaseFilters)}: must be positive, got {BaseFilters}", nameof(BaseFilters));
        if (!(MemoryBudgetMegabytes >= 0) || double.IsInfinity(MemoryBudgetMegabytes))
            throw new ArgumentException($"{nameof(MemoryBudgetMegabytes)}: must be 0 (measure the device) or a positive number of MB", nameof(MemoryBudgetMegabytes));
        if (MaxPatchVoxels < 8) throw new ArgumentException($"{nameof(MaxPatchVoxels)}: must be at least 8, got {MaxPatchVoxels}", nameof(MaxPatchVoxels));
        if (MaxBatchSize < 1) throw new ArgumentException($"{nameof(MaxBatchSize)}: must be at least 1, got {MaxBatchSize}", nameof(MaxBatchSize));
        var o = Overrides ?? throw new ArgumentException($"{nameof(Overrides)}: must be set", nameof(Overrides));
        if (o.Orientation is { } orientation && !(orientation.Equals(DatasetPlan.Canonical, StringComparison.OrdinalIgnoreCase) || orientation.Equals(DatasetPlan.Native, StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException($"orientation: '{orientation}' must be {DatasetPlan.Canonical} or {DatasetPlan.Native}", "Orientation");
        if (o.TargetSpacing is { } s && (s.Length != 3 || s.Any(v => !(v > 0) || v > 100)))
            throw new ArgumentException($"spacing: ({string.Join(", ", s)}) must be 3 positive sizes in mm", "TargetSpacing");
        if (o.PatchSize is { } p && (p.Length != 3 || p.Any(v => v is < 1 or > 1024)))
            throw new ArgumentException($"patch: ({string.Join(", ", p)}) must be 3 sizes (D, H, W), each 1..1024", "PatchSize");
        if (o.BatchSize is < 1) throw new ArgumentException($"batch: must be at least 1, got {o.BatchSize}", "BatchSize");
        if (o.ModelDepth is < 1) throw new ArgumentException($"depth: must be at least 1, got {o.ModelDepth}", "ModelDepth");
        foreach (var (m, scheme) in o.Intensity ?? [])
            if (scheme is not (ModalityIntensityPlan.Ct or ModalityIntensityPlan.Mr))
                throw new ArgumentException($"intensity {m}: '{scheme}' must be {ModalityIntensityPlan.Ct} or {ModalityIntensityPlan.Mr}", "Intensity");
    }
}

/// <summary>
/// Makes a <see cref="DatasetPlan"/> from a <see cref="DatasetFingerprint"/>, following nnU-Net
/// (Isensee et al., Nature Methods 2021): target spacing = median spacing, except that an axis
/// whose median spacing is more than 3× the finest other axis takes the 10th percentile of its
/// spacings (never finer than the other axes); CT modalities are clipped to the dataset's
/// foreground 0.5–99.5 percentiles and standardised with its foreground mean and sd, other
/// modalities are z-scored per image; the patch starts at the median shape at the target spacing
/// and shrinks along its longest axis until one step's memory, measured on the device, fits the
/// budget with a batch of 2; the batch then grows to fill the budget, capped so one batch covers at
/// most 5 % of the dataset's voxels; UNET3D_CICEK's poolings follow the patch (the deepest level
/// keeps at least 4 voxels).
/// </summary>
public static class Planner
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Plans with a probe that measures <paramref name="options"/>' model on its device.</summary>
    public static DatasetPlan Plan(DatasetFingerprint fingerprint, PlanOptions options) =>
        Plan(fingerprint, options, new TorchPatchMemoryProbe(options.Model, fingerprint.Modalities.Count, Math.Max(2, fingerprint.ClassNames.Count), options.BaseFilters, options.Device));

    /// <summary>Plans with the given memory probe.</summary>
    public static DatasetPlan Plan(DatasetFingerprint fingerprint, PlanOptions options, IPatchMemoryProbe probe)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(probe);
        options.Validate();
        if (fingerprint.Subjects.Count == 0) throw new ArgumentException("the fingerprint has no subjects", nameof(fingerprint));
        var o = options.Overrides;
        var model = ModelZoo.Get(options.Model);
        var n = fingerprint.Subjects.Count;
        var plan = new DatasetPlan
        {
            Dataset = fingerprint.Dataset,
            Modalities = fingerprint.Modalities.ToList(),
            ClassNames = fingerprint.ClassNames.ToList(),
            Subjects = n,
            Model = model.Name,
            BaseFilters = options.BaseFilters,
        };

        // Orientation.
        var others = fingerprint.Subjects.Where(s => s.Orientation != "RAS").GroupBy(s => s.Orientation).Select(g => $"{g.Count()} {g.Key}").ToArray();
        var orientationReason = others.Length == 0
            ? $"all {n} subjects are stored RAS; grids are still checked and reoriented to the closest RAS+ at inference"
            : $"{others.Sum(x => int.Parse(x.Split(' ')[0], C))} of {n} subjects are stored otherwise ({string.Join(", ", others)}): voxel axes are permuted and flipped to the closest RAS+ (nibabel's as_closest_canonical) so the network always sees one axis order";
        plan.Orientation = o.Orientation is { } or
            ? PlanChoice<string>.Set(or.Equals(DatasetPlan.Native, StringComparison.OrdinalIgnoreCase) ? DatasetPlan.Native : DatasetPlan.Canonical, DatasetPlan.Canonical)
            : PlanChoice<string>.Planned(DatasetPlan.Canonical, orientationReason);
        var canonical = plan.Reorients;
        double[][] spacings = fingerprint.Subjects.Select(s => canonical ? s.CanonicalSpacing : s.Spacing).ToArray();
        int[][] sizes = fingerprint.Subjects.Select(s => canonical ? s.CanonicalSize : s.Size).ToArray();

        // Target spacing (i, j, k).
        var (spacing, spacingReason) = TargetSpacing(spacings);
        plan.TargetSpacing = o.TargetSpacing is { } ts ? PlanChoice<double[]>.Set(ts.ToArray(), Mm(spacing)) : PlanChoice<double[]>.Planned(spacing, spacingReason);
        var target = plan.TargetSpacing.Value;
        var anisotropic = target.Max() > 3 * target.Min();

        plan.ImageInterpolation = o.ImageInterpolation is { } ii
            ? PlanChoice<ImageInterpolation>.Set(ii, "cubic")
            : PlanChoice<ImageInterpolation>.Planned(ImageInterpolation.Cubic, "third-order B-spline (nnU-Net's order 3): sharper than trilinear for intensities" + (anisotropic ? "; the target grid is anisotropic, choose linear if slices ring" : ""));
        plan.LabelInterpolation = o.LabelInterpolation is { } li
            ? PlanChoice<LabelInterpolation>.Set(li, "nearest")
            : PlanChoice<LabelInterpolation>.Planned(LabelInterpolation.Nearest, "nearest voxel: never creates a class and keeps same-grid labels exact; linear_onehot gives smoother borders when the spacing changes a lot");

        // Intensity per modality.
        for (var c = 0; c < fingerprint.Modalities.Count; c++)
        {
            var name = fingerprint.Modalities[c];
            var stats = fingerprint.Foreground[c];
            var looksCt = IsCtName(name);
            var planned = looksCt ? ModalityIntensityPlan.Ct : ModalityIntensityPlan.Mr;
            var reason = looksCt
                ? string.Create(C, $"modality '{name}' is CT (Hounsfield units mean the same in every scan): clip to the dataset's foreground 0.5–99.5 percentiles [{stats.Percentile005:0.##}, {stats.Percentile995:0.##}], then subtract its mean {stats.Mean:0.##} and divide by its sd {stats.Sd:0.##}")
                : $"modality '{name}' is not CT (MR-like: intensities differ between scans): z-score each image over its non-zero voxels";
            var overridden = o.Intensity?.FirstOrDefault(kv => kv.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
            plan.Intensity.Add(new ModalityIntensityPlan
            {
                Modality = name,
                Scheme = overridden is null ? PlanChoice<string>.Planned(planned, reason) : PlanChoice<string>.Set(overridden, planned),
                ClipLow = stats.Percentile005, ClipHigh = stats.Percentile995, Mean = stats.Mean, Sd = stats.Sd,
            });
        }

        // Median shape at target spacing, as (D, H, W) = (k, j, i).
        var atTarget = sizes.Select((s, i) => Enumerable.Range(0, 3).Select(a => Math.Max(1, (int)Math.Round(s[a] * spacings[i][a] / target[a], MidpointRounding.AwayFromZero))).ToArray()).ToArray();
        var medianIjk = Enumerable.Range(0, 3).Select(a => (int)Math.Round(Median(atTarget.Select(s => (double)s[a]).ToArray()), MidpointRounding.AwayFromZero)).ToArray();
        plan.MedianShape = [medianIjk[2], medianIjk[1], medianIjk[0]];
        var datasetVoxels = atTarget.Sum(s => (double)s[0] * s[1] * s[2]);

        PlanPatch(plan, model, options, probe, datasetVoxels);
        plan.Validate();
        return plan;
    }

    /// <summary>nnU-Net's target spacing from per-subject spacings (i, j, k), with its reason.</summary>
    public static (double[] Spacing, string Reason) TargetSpacing(IReadOnlyList<double[]> spacings)
    {
        var n = spacings.Count;
        var median = Enumerable.Range(0, 3).Select(a => Median(spacings.Select(s => s[a]).ToArray())).ToArray();
        var worst = Array.IndexOf(median, median.Max());
        var otherMin = Enumerable.Range(0, 3).Where(a => a != worst).Min(a => median[a]);
        var otherMax = Enumerable.Range(0, 3).Where(a => a != worst).Max(a => median[a]);
        if (median[worst] > 3 * otherMin)
        {
            var p10 = Percentile(spacings.Select(s => s[worst]).ToArray(), 10);
            var chosen = median.ToArray();
            chosen[worst] = Math.Max(p10, otherMax);
            return (chosen, $"spacing {Mm(chosen)}: median of {n} subjects, except axis {"ijk"[worst]} ({median[worst].ToString("0.###", C)} mm, more than 3× the finest other axis) which takes the 10th percentile of its spacings ({p10.ToString("0.###", C)} mm{(p10 < otherMax ? $", raised to the other axes' {otherMax.ToString("0.###", C)} mm" : "")}), nnU-Net's rule for anisotropic data");
        }
        return (median, $"spacing {Mm(median)}: median of {n} subject{(n == 1 ? "" : "s")}");
    }

    private static void PlanPatch(DatasetPlan plan, ModelInfo model, PlanOptions options, IPatchMemoryProbe probe, double datasetVoxels)
    {
        var o = options.Overrides;
        var median = plan.MedianShape;
        var adaptsDepth = model.Name == UNet3DCicek.ZooName;
        int? DepthFor(int[] patch) => adaptsDepth
            ? Math.Clamp((int)Math.Floor(Math.Log2(patch.Min() / 4.0)), 1, UNet3DCicek.MaxDepth)
            : null;

        // Start at the median shape (capped by MaxPatchVoxels), then fit the model's constraints.
        var patch = o.PatchSize?.ToArray() ?? median.ToArray();
        var depth = o.ModelDepth ?? DepthFor(patch);
        var constraints = model.ConstraintsFor(new ModelOptions { Depth = depth });
        if (o.PatchSize is null)
        {
            patch = patch.Select(v => RoundUp(Math.Max(v, constraints.MinSize), constraints.Divisor)).ToArray();
            while ((long)patch[0] * patch[1] * patch[2] > options.MaxPatchVoxels && Shrink(patch, median, constraints)) { }
        }

        double budget = 0, fixedMb = 0, perVoxel = 0, seconds = 0;
        var measured = o.PatchSize is null || o.BatchSize is null;
        if (measured)
        {
            budget = options.MemoryBudgetMegabytes > 0 ? options.MemoryBudgetMegabytes : probe.AvailableMegabytes();
            fixedMb = probe.FixedMegabytes(depth);
            // Two measured sizes give the cost of one more voxel (activation memory is linear in voxels).
            var small = Enumerable.Repeat(RoundUp(constraints.MinSize, constraints.Divisor), 3).ToArray();
            var large = small.Select(v => v + constraints.Divisor * Math.Max(1, (int)Math.Ceiling(8.0 / constraints.Divisor))).ToArray();
            var a = probe.Measure(small, depth);
            var b = probe.Measure(large, depth);
            perVoxel = Math.Max(0, (b.Megabytes - a.Megabytes) * 1e6 / (Voxels(large) - Voxels(small)));
            var offset = Math.Max(0, a.Megabytes - perVoxel * Voxels(small) / 1e6);
            fixedMb += offset;
            seconds = b.Seconds;
            if (o.PatchSize is null)
            {
                while (fixedMb + 2 * perVoxel * Voxels(patch) / 1e6 > budget)
                {
                    if (!Shrink(patch, median, constraints))
                        throw new ArgumentException(string.Create(C,
                            $"a memory budget of {budget:0} MB cannot hold {model.Name} with the smallest patch it accepts ({string.Join("×", patch)}) and a batch of 2 (measured {fixedMb:0} MB fixed + {perVoxel:0.#} bytes per voxel): give a larger budget or a smaller model"));
                    if (adaptsDepth && o.ModelDepth is null)
                    {
                        depth = DepthFor(patch);
                        constraints = model.ConstraintsFor(new ModelOptions { Depth = depth });
                    }
                }
            }
        }
        var voxels = Voxels(patch);
        var patchReason =
            Inv($"median shape {string.Join("×", median)} at the target spacing, rounded to {model.Name}'s multiples of {constraints.Divisor}") +
            (Voxels(median) > options.MaxPatchVoxels ? Inv($", capped at {options.MaxPatchVoxels} voxels") : "") +
            Inv($"; one step with a batch of 2 needs {fixedMb + 2 * perVoxel * voxels / 1e6:0} MB of the {budget:0} MB budget on {probe.Device} (measured forward+backward: {perVoxel:0.#} bytes per voxel, {fixedMb:0} MB fixed)");
        plan.PatchSize = o.PatchSize is { } op ? PlanChoice<int[]>.Set(op.ToArray(), string.Join("×", patch)) : PlanChoice<int[]>.Planned(patch, patchReason);
        patch = plan.PatchSize.Value;
        voxels = Voxels(patch);

        var byMemory = perVoxel > 0 ? (int)Math.Floor((budget - fixedMb) / (perVoxel * voxels / 1e6)) : options.MaxBatchSize;
        var byCoverage = (int)Math.Floor(0.05 * datasetVoxels / voxels);
        var batch = Math.Max(2, Math.Min(Math.Min(byMemory, options.MaxBatchSize), byCoverage));
        var batchReason = Inv($"{Math.Min(byMemory, options.MaxBatchSize)} fit the memory budget{(byMemory > options.MaxBatchSize ? $" (capped at {options.MaxBatchSize})" : "")}; ") +
            Inv($"{byCoverage} cover 5 % of the dataset's {datasetVoxels:0} voxels at the target spacing; at least 2 (nnU-Net's rule)");
        plan.BatchSize = o.BatchSize is { } ob ? PlanChoice<int>.Set(ob, batch.ToString(C)) : PlanChoice<int>.Planned(batch, batchReason);

        var plannedDepth = adaptsDepth ? DepthFor(patch) : null;
        plan.ModelDepth = o.ModelDepth is { } od
            ? PlanChoice<int?>.Set(od, plannedDepth?.ToString(C) ?? "the model's own")
            : PlanChoice<int?>.Planned(plannedDepth, adaptsDepth
                ? $"{plannedDepth} poolings: the smallest patch side {patch.Min()} halves {plannedDepth} times and keeps at least 4 voxels at the deepest level"
                : $"{model.Name} has a fixed topology ({constraints.Describe()}); UNET3D_CICEK adapts its poolings to the patch");
        if (measured)
            plan.Memory = new PlanMemory
            {
                Device = probe.Device, BudgetMegabytes = budget, FixedMegabytes = fixedMb, BytesPerVoxel = perVoxel,
                PlannedMegabytes = fixedMb + plan.BatchSize.Value * perVoxel * voxels / 1e6, ProbeSeconds = seconds,
            };
    }

    /// <summary>Shrinks the axis that is largest relative to the median shape by one divisor step; false when none can shrink.</summary>
    private static bool Shrink(int[] patch, int[] median, InputConstraints constraints)
    {
        var order = Enumerable.Range(0, 3).OrderByDescending(a => patch[a] / (double)Math.Max(1, median[a])).ThenByDescending(a => patch[a]);
        foreach (var a in order)
        {
            var next = patch[a] - constraints.Divisor;
            if (next >= constraints.MinSize && next >= 1) { patch[a] = next; return true; }
        }
        return false;
    }

    private static string Inv(FormattableString s) => s.ToString(C);

    private static int RoundUp(int v, int divisor) => (v + divisor - 1) / divisor * divisor;

    private static long Voxels(int[] s) => (long)s[0] * s[1] * s[2];

    private static bool IsCtName(string modality)
    {
        var m = modality.Trim().ToLowerInvariant();
        return m == "ct" || m.StartsWith("ct", StringComparison.Ordinal) && !char.IsAsciiLetter(m.Length > 2 ? m[2] : ' ') || m.Contains("_ct", StringComparison.Ordinal) || m.Contains(" ct", StringComparison.Ordinal);
    }

    private static string Mm(double[] s) => string.Join("×", s.Select(v => v.ToString("0.###", C))) + " mm";

    /// <summary>Median (mean of the middle two for an even count).</summary>
    internal static double Median(double[] values) => Percentile(values, 50);

    /// <summary>numpy's default percentile (linear interpolation between order statistics).</summary>
    internal static double Percentile(double[] values, double p)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        var pos = p / 100 * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
