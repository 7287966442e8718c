using System.Globalization;
using MedZoo.Engine.Data;

namespace MedZoo.Engine.Planning;

/// <summary>What <see cref="PlanningRequest.Run"/> produced.</summary>
/// <param name="Fingerprint">The dataset's fingerprint.</param>
/// <param name="Plan">The plan.</param>
/// <param name="SavedTo">Where the plan JSON was written; null when it was not.</param>
public sealed record PlanningReport(DatasetFingerprint Fingerprint, DatasetPlan Plan, string? SavedTo);

/// <summary>
/// <c>medzoo dataset plan</c> and the dashboard in one call: fingerprint the dataset, plan it and
/// store the plan with the dataset (<see cref="DefaultFileName"/> in its folder) or where asked.
/// Also parses the textual overrides the command line and forms take ("1,1,1.5", "CT=ct").
/// </summary>
public static class PlanningRequest
{
    /// <summary>The plan file's name in a dataset's folder.</summary>
    public const string DefaultFileName = "medzoo.plan.json";

    /// <summary>Where a dataset's plan is stored by default: <see cref="DefaultFileName"/> in its folder; null for generated datasets.</summary>
    public static string? DefaultPath(DatasetOptions dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return string.IsNullOrWhiteSpace(dataset.Path) ? null : Path.Combine(Path.GetFullPath(dataset.Path), DefaultFileName);
    }

    /// <summary>Fingerprints and plans <paramref name="dataset"/>; saves the plan to <paramref name="output"/>, or next to the dataset when null (generated datasets: not saved).</summary>
    public static PlanningReport Run(DatasetOptions dataset, PlanOptions options, string? output = null, IPatchMemoryProbe? probe = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var fingerprint = FingerprintBuilder.Build(dataset, cancellation: cancellation);
        var plan = probe is null ? Planner.Plan(fingerprint, options) : Planner.Plan(fingerprint, options, probe);
        var path = output ?? DefaultPath(dataset);
        if (path is not null) plan.Save(path);
        return new PlanningReport(fingerprint, plan, path is null ? null : Path.GetFullPath(path));
    }

    /// <summary>"1,1,1.5" or "1 1 1.5" → 3 positive millimetre values.</summary>
    public static double[] ParseSpacing(string text)
    {
        var parts = Split(text);
        if (parts.Length != 3 || !parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0))
            throw new ArgumentException($"spacing '{text}' must be 3 positive numbers in mm, e.g. 1,1,1.5");
        return parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>"64,64,48" (or one value for a cube) → a patch (D, H, W).</summary>
    public static int[] ParsePatch(string text)
    {
        var parts = Split(text);
        if (parts.Length is not (1 or 3) || !parts.All(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0))
            throw new ArgumentException($"patch '{text}' must be 3 positive sizes D,H,W (or one for a cube), e.g. 64,64,48");
        var values = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return values.Length == 1 ? [values[0], values[0], values[0]] : values;
    }

    /// <summary>"CT=ct" pairs → intensity overrides by modality.</summary>
    public static Dictionary<string, string> ParseIntensity(IEnumerable<string> pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=');
            var scheme = eq > 0 ? pair[(eq + 1)..].Trim().ToLowerInvariant() : "";
            if (eq <= 0 || scheme is not (ModalityIntensityPlan.Ct or ModalityIntensityPlan.Mr))
                throw new ArgumentException($"intensity '{pair}' must be MODALITY=ct or MODALITY=mr, e.g. CT=ct");
            result[pair[..eq].Trim()] = scheme;
        }
        return result;
    }

    /// <summary>"cubic"/"linear" → <see cref="ImageInterpolation"/>.</summary>
    public static ImageInterpolation ParseImageInterpolation(string text) =>
        Enum.TryParse<ImageInterpolation>(text.Trim(), ignoreCase: true, out var v) && Enum.IsDefined(v)
            ? v : throw new ArgumentException($"image interpolation '{text}' must be cubic or linear");

    /// <summary>"nearest"/"linear_onehot" → <see cref="LabelInterpolation"/>.</summary>
    public static LabelInterpolation ParseLabelInterpolation(string text) =>
        Enum.TryParse<LabelInterpolation>(text.Trim().Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var v) && Enum.IsDefined(v)
            ? v : throw new ArgumentException($"label interpolation '{text}' must be nearest or linear_onehot");

    private static string[] Split(string text) =>
        (text ?? "").Split([',', ' ', 'x', '×'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
