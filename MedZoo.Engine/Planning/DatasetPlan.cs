using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MedZoo.Engine.Planning;

/// <summary>One decision of a plan: its value, why it was made, and whether a person set it.</summary>
/// <typeparam name="T">The value's type.</typeparam>
public sealed class PlanChoice<T>
{
    /// <summary>The chosen value.</summary>
    public T Value { get; set; } = default!;

    /// <summary>Why, in words a person reads ("spacing 1×1×1.5 mm: median of 12 subjects").</summary>
    public string Reason { get; set; } = "";

    /// <summary>True when the value was set by a person instead of the planner.</summary>
    public bool Overridden { get; set; }

    /// <summary>A planner's choice.</summary>
    public static PlanChoice<T> Planned(T value, string reason) => new() { Value = value, Reason = reason };

    /// <summary>A person's choice, keeping what the planner would have chosen in the reason.</summary>
    public static PlanChoice<T> Set(T value, string plannerWouldChoose) =>
        new() { Value = value, Reason = $"set by you (the planner chose {plannerWouldChoose})", Overridden = true };
}

/// <summary>Intensity scheme of one modality.</summary>
public sealed class ModalityIntensityPlan
{
    /// <summary>CT scheme name: clip to the dataset's foreground 0.5–99.5 percentiles, then (x − mean)/sd with the dataset's foreground mean and sd.</summary>
    public const string Ct = "ct";

    /// <summary>MR scheme name: z-score of each image over its own non-zero voxels (background stays 0).</summary>
    public const string Mr = "mr";

    /// <summary>Modality name.</summary>
    public string Modality { get; set; } = "";

    /// <summary>"ct" or "mr".</summary>
    public PlanChoice<string> Scheme { get; set; } = new();

    /// <summary>CT: lower clip (the dataset's foreground 0.5th percentile).</summary>
    public double ClipLow { get; set; }

    /// <summary>CT: upper clip (the dataset's foreground 99.5th percentile).</summary>
    public double ClipHigh { get; set; }

    /// <summary>CT: the dataset's foreground mean.</summary>
    public double Mean { get; set; }

    /// <summary>CT: the dataset's foreground standard deviation.</summary>
    public double Sd { get; set; }
}

/// <summary>What the memory measurement behind the patch and batch size found.</summary>
public sealed class PlanMemory
{
    /// <summary>Device measured on ("cpu", "cuda:0").</summary>
    public string Device { get; set; } = "";

    /// <summary>Memory available to training, in MB.</summary>
    public double BudgetMegabytes { get; set; }

    /// <summary>Memory independent of the patch (weights, gradients, optimizer state, runtime), in MB.</summary>
    public double FixedMegabytes { get; set; }

    /// <summary>Measured memory per patch voxel of one sample, in bytes.</summary>
    public double BytesPerVoxel { get; set; }

    /// <summary>Estimated memory of one training step at the planned patch and batch, in MB.</summary>
    public double PlannedMegabytes { get; set; }

    /// <summary>Seconds of one measured forward+backward at the largest probe size.</summary>
    public double ProbeSeconds { get; set; }
}

/// <summary>
/// An nnU-Net-style plan for a dataset: the orientation, target spacing, interpolation, intensity
/// scheme, patch size, batch size and network depth training and inference use, each with the
/// reason it was chosen and a flag when a person set it. Plain data: saved as JSON next to the
/// dataset, embedded in every checkpoint, applied by training (subjects reoriented, normalized and
/// resampled before sampling) and by inference (input reoriented and resampled in, class
/// probabilities resampled back out). Edit a field's value (and set "overridden") to override it.
/// </summary>
public sealed class DatasetPlan
{
    /// <summary>The plan layout version this code writes.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Canonical orientation value: reorient every grid to the closest RAS+.</summary>
    public const string Canonical = "RAS";

    /// <summary>Orientation value that keeps each file's own axis order.</summary>
    public const string Native = "native";

    /// <summary>JSON settings of plan files (indented, camelCase, enums as names).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Layout version.</summary>
    public int FormatVersion { get; set; } = CurrentFormatVersion;

    /// <summary>Dataset name the plan was made for.</summary>
    public string Dataset { get; set; } = "";

    /// <summary>Modality names in channel order.</summary>
    public List<string> Modalities { get; set; } = [];

    /// <summary>Class names, index = class.</summary>
    public List<string> ClassNames { get; set; } = [];

    /// <summary>Subjects the fingerprint covered.</summary>
    public int Subjects { get; set; }

    /// <summary>"RAS" (closest canonical, the default) or "native".</summary>
    public PlanChoice<string> Orientation { get; set; } = PlanChoice<string>.Planned(Canonical, "");

    /// <summary>Target voxel size in mm along the (reoriented) voxel axes i, j, k (R, A, S).</summary>
    public PlanChoice<double[]> TargetSpacing { get; set; } = new();

    /// <summary>How images are resampled.</summary>
    public PlanChoice<ImageInterpolation> ImageInterpolation { get; set; } = PlanChoice<ImageInterpolation>.Planned(Planning.ImageInterpolation.Cubic, "");

    /// <summary>How label maps are resampled.</summary>
    public PlanChoice<LabelInterpolation> LabelInterpolation { get; set; } = PlanChoice<LabelInterpolation>.Planned(Planning.LabelInterpolation.Nearest, "");

    /// <summary>Intensity scheme per modality, in channel order.</summary>
    public List<ModalityIntensityPlan> Intensity { get; set; } = [];

    /// <summary>Median subject size (D, H, W) at the target spacing (what the patch is derived from).</summary>
    public int[] MedianShape { get; set; } = [];

    /// <summary>Model the patch, batch and depth were planned for.</summary>
    public string Model { get; set; } = "";

    /// <summary>Base filters the model was measured with; null = the model's default.</summary>
    public int? BaseFilters { get; set; }

    /// <summary>Training patch (D, H, W), also the inference window.</summary>
    public PlanChoice<int[]> PatchSize { get; set; } = new();

    /// <summary>Training batch size.</summary>
    public PlanChoice<int> BatchSize { get; set; } = new();

    /// <summary>Network depth (poolings) where the model has one that the patch decides; null = the model's own.</summary>
    public PlanChoice<int?> ModelDepth { get; set; } = new();

    /// <summary>The memory measurement behind patch and batch; null when both were set by a person.</summary>
    public PlanMemory? Memory { get; set; }

    /// <summary>True when grids are reoriented to RAS+.</summary>
    [JsonIgnore]
    public bool Reorients => !string.Equals(Orientation.Value, Native, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A short hash of everything that changes preprocessed voxels (orientation, spacing,
    /// interpolation, intensity schemes and their statistics), for cache keys.
    /// </summary>
    public string PreprocessingKey()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(c, $"{Orientation.Value}|{string.Join(",", TargetSpacing.Value.Select(v => v.ToString("R", c)))}|{ImageInterpolation.Value}|{LabelInterpolation.Value}|");
        foreach (var m in Intensity) text.Append(c, $"{m.Modality}:{m.Scheme.Value}:{m.ClipLow:R}:{m.ClipHigh:R}:{m.Mean:R}:{m.Sd:R}|");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    /// <summary>Every choice as (field, value, reason, overridden), in the order they are made.</summary>
    public IReadOnlyList<(string Field, string Value, string Reason, bool Overridden)> Choices()
    {
        var c = CultureInfo.InvariantCulture;
        var list = new List<(string, string, string, bool)>
        {
            ("orientation", Orientation.Value, Orientation.Reason, Orientation.Overridden),
            ("spacing", string.Join(" × ", TargetSpacing.Value.Select(v => v.ToString("0.###", c))) + " mm", TargetSpacing.Reason, TargetSpacing.Overridden),
            ("image interpolation", ImageInterpolation.Value.ToString().ToLowerInvariant(), ImageInterpolation.Reason, ImageInterpolation.Overridden),
            ("label interpolation", LabelInterpolation.Value.ToString().ToLowerInvariant(), LabelInterpolation.Reason, LabelInterpolation.Overridden),
        };
        foreach (var m in Intensity) list.Add(($"intensity {m.Modality}", m.Scheme.Value, m.Scheme.Reason, m.Scheme.Overridden));
        list.Add(("patch", string.Join(" × ", PatchSize.Value), PatchSize.Reason, PatchSize.Overridden));
        list.Add(("batch", BatchSize.Value.ToString(c), BatchSize.Reason, BatchSize.Overridden));
        list.Add(("depth", ModelDepth.Value?.ToString(c) ?? "model default", ModelDepth.Reason, ModelDepth.Overridden));
        return list;
    }

    /// <summary>The plan as lines "field: value — reason".</summary>
    public string Describe() => $"plan for '{Dataset}' ({Model}):" + Environment.NewLine + string.Join(Environment.NewLine,
        Choices().Select(ch => $"  {ch.Field}: {ch.Value}{(ch.Overridden ? " (overridden)" : "")} — {ch.Reason}"));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field (e.g. after a hand edit).</summary>
    public void Validate()
    {
        if (FormatVersion > CurrentFormatVersion)
            throw new ArgumentException($"plan format {FormatVersion} is newer than this MedZoo understands ({CurrentFormatVersion}); upgrade MedZoo", nameof(FormatVersion));
        if (Orientation?.Value is not { } o || !(string.Equals(o, Canonical, StringComparison.OrdinalIgnoreCase) || string.Equals(o, Native, StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException($"orientation: '{Orientation?.Value}' must be {Canonical} or {Native}", nameof(Orientation));
        if (TargetSpacing?.Value is not { Length: 3 } s || s.Any(v => !(v > 0) || double.IsInfinity(v) || v > 100))
            throw new ArgumentException($"spacing: ({string.Join(", ", TargetSpacing?.Value ?? [])}) must be 3 positive sizes in mm (at most 100)", nameof(TargetSpacing));
        if (ImageInterpolation is null || !Enum.IsDefined(ImageInterpolation.Value))
            throw new ArgumentException("image interpolation: use Cubic or Linear", nameof(ImageInterpolation));
        if (LabelInterpolation is null || !Enum.IsDefined(LabelInterpolation.Value))
            throw new ArgumentException("label interpolation: use Nearest or LinearOneHot", nameof(LabelInterpolation));
        if (Modalities.Count == 0 || Intensity.Count != Modalities.Count)
            throw new ArgumentException($"intensity: one scheme per modality is needed ({Modalities.Count} modalities, {Intensity.Count} schemes)", nameof(Intensity));
        foreach (var m in Intensity)
        {
            if (m.Scheme?.Value is not (ModalityIntensityPlan.Ct or ModalityIntensityPlan.Mr))
                throw new ArgumentException($"intensity {m.Modality}: '{m.Scheme?.Value}' must be {ModalityIntensityPlan.Ct} or {ModalityIntensityPlan.Mr}", nameof(Intensity));
            if (m.Scheme.Value == ModalityIntensityPlan.Ct && (!(m.ClipLow <= m.ClipHigh) || !(m.Sd >= 0) || !double.IsFinite(m.Mean)))
                throw new ArgumentException($"intensity {m.Modality}: CT needs clipLow ≤ clipHigh, a finite mean and sd ≥ 0", nameof(Intensity));
        }
        if (PatchSize?.Value is not { Length: 3 } p || p.Any(v => v is < 1 or > 1024))
            throw new ArgumentException($"patch: ({string.Join(", ", PatchSize?.Value ?? [])}) must be 3 sizes (D, H, W), each 1..1024", nameof(PatchSize));
        if (BatchSize is null || BatchSize.Value is < 1 or > 4096)
            throw new ArgumentException($"batch: {BatchSize?.Value} must be 1..4096", nameof(BatchSize));
        if (ModelDepth?.Value is < 1)
            throw new ArgumentException($"depth: {ModelDepth.Value} must be positive", nameof(ModelDepth));
    }

    /// <summary>The plan as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Parses and validates a plan.</summary>
    /// <exception cref="InvalidDataException">Not a plan, or a field is invalid.</exception>
    public static DatasetPlan FromJson(string json)
    {
        DatasetPlan? plan;
        try { plan = JsonSerializer.Deserialize<DatasetPlan>(json, JsonOptions); }
        catch (JsonException e) { throw new InvalidDataException($"not a MedZoo plan: {e.Message}", e); }
        if (plan is null) throw new InvalidDataException("not a MedZoo plan: the file is empty");
        try { plan.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"the plan is not valid: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}", e); }
        return plan;
    }

    /// <summary>Reads a plan file.</summary>
    public static DatasetPlan Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"plan file '{path}' does not exist", path);
        return FromJson(File.ReadAllText(path));
    }

    /// <summary>Writes the plan atomically (temporary file, then rename).</summary>
    public void Save(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var temp = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            File.WriteAllText(temp, ToJson());
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>A deep copy.</summary>
    public DatasetPlan Clone() => FromJson(ToJson());
}
