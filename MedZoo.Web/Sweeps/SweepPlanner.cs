using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MedZoo.Web.Sweeps;

/// <summary>One trial of a sweep: its number, the values it sets (path → JSON) and its whole configuration.</summary>
public sealed record SweepTrial(int Number, IReadOnlyDictionary<string, string> Values, string ConfigJson)
{
    /// <summary>"learningRate=0.01, loss=dice": what tells this trial apart, for names and tables.</summary>
    public string Label => Describe(Values);

    /// <summary>The values as one short line.</summary>
    public static string Describe(IReadOnlyDictionary<string, string> values) =>
        string.Join(", ", values.Select(kv => $"{kv.Key}={kv.Value.Replace("\"", "", StringComparison.Ordinal)}"));
}

/// <summary>
/// Turns a <see cref="SweepRequest"/> into trials: checks each parameter against the base configuration (an
/// unknown path names the closest known one), expands the grid or draws the random trials (the same seed draws
/// the same ones), and writes each trial's values into a copy of the base configuration. Throws
/// <see cref="ArgumentException"/> with a message for the user.
/// </summary>
public static class SweepPlanner
{
    /// <summary>Most trials one sweep may queue.</summary>
    public const int MaxTrials = 100;

    /// <summary>Most values one parameter may list.</summary>
    public const int MaxValues = 50;

    /// <summary>Longest sweep name (it prefixes every trial's run name).</summary>
    public const int MaxNameLength = 200;

    /// <summary>The trials of <paramref name="request"/> on <paramref name="baseConfigJson"/>.</summary>
    public static IReadOnlyList<SweepTrial> Expand(SweepRequest request, string baseConfigJson)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Name is { Length: > MaxNameLength } name)
            throw new ArgumentException($"the name is {name.Length} characters long; at most {MaxNameLength}");
        if (JsonNode.Parse(baseConfigJson) is not JsonObject root)
            throw new ArgumentException("the base configuration is not a JSON object");
        if (request.Parameters is not { Count: > 0 })
            throw new ArgumentException("add at least one option to vary (for example learningRate: 0.001 | 0.01)");
        var known = LeafPaths(root, "").ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < request.Parameters.Count; i++) Check(request.Parameters[i], i + 1, request.Search, known, seen);

        var combos = request.Search switch
        {
            SweepSearch.Grid => Grid(request.Parameters),
            SweepSearch.Random => Random(request),
            _ => throw new ArgumentException($"search '{request.Search}' is not grid or random"),
        };
        return combos.Select((values, i) => new SweepTrial(i + 1, values, Apply(baseConfigJson, values))).ToList();
    }

    private static void Check(SweepParameter p, int number, SweepSearch search, List<string> known, HashSet<string> seen)
    {
        var where = $"option {number}{(string.IsNullOrWhiteSpace(p.Path) ? "" : $" ({p.Path})")}";
        if (string.IsNullOrWhiteSpace(p.Path)) throw new ArgumentException($"{where}: name the option to vary, e.g. learningRate");
        if (!known.Contains(p.Path, StringComparer.Ordinal))
        {
            var closest = known.MinBy(k => Distance(k.ToLowerInvariant(), p.Path.ToLowerInvariant()));
            throw new ArgumentException($"{where}: the configuration has no option '{p.Path}'" + (closest is null ? "" : $"; did you mean '{closest}'?"));
        }
        if (!seen.Add(p.Path)) throw new ArgumentException($"{where}: '{p.Path}' is listed twice; give all its values on one line");
        var hasValues = p.Values is { Count: > 0 };
        var hasRange = p.Min is not null || p.Max is not null;
        if (hasValues && hasRange) throw new ArgumentException($"{where}: give either values or a range, not both");
        if (hasValues)
        {
            if (p.Values!.Count > MaxValues) throw new ArgumentException($"{where}: {p.Values.Count} values; at most {MaxValues}");
            return;
        }
        if (!hasRange) throw new ArgumentException($"{where}: give values (0.001 | 0.01) or, for random search, a range (0.0001 .. 0.1 log)");
        if (search != SweepSearch.Random) throw new ArgumentException($"{where}: a range needs random search; a grid takes a list of values");
        if (p.Min is not { } min || p.Max is not { } max || !double.IsFinite(min) || !double.IsFinite(max))
            throw new ArgumentException($"{where}: a range needs a finite min and max");
        if (min >= max) throw new ArgumentException($"{where}: min {F(min)} must be below max {F(max)}");
        if (p.Log && min <= 0) throw new ArgumentException($"{where}: a log range needs min above 0, got {F(min)}");
    }

    private static List<Dictionary<string, string>> Grid(IReadOnlyList<SweepParameter> parameters)
    {
        long total = 1;
        foreach (var p in parameters) total *= p.Values!.Count;
        if (total > MaxTrials)
            throw new ArgumentException(
                $"the grid has {string.Join(" × ", parameters.Select(p => p.Values!.Count))} = {total} trials, more than the {MaxTrials} a sweep may queue; " +
                "remove values or use random search with fewer trials");
        var combos = new List<Dictionary<string, string>> { new(StringComparer.Ordinal) };
        foreach (var p in parameters)
        {
            combos = combos.SelectMany(c => p.Values!.Select(v => new Dictionary<string, string>(c, StringComparer.Ordinal) { [p.Path] = v.GetRawText() })).ToList();
        }
        return combos;
    }

    private static List<Dictionary<string, string>> Random(SweepRequest request)
    {
        if (request.Trials is < 1 or > MaxTrials)
            throw new ArgumentException($"trials is {request.Trials}; a random search takes 1 to {MaxTrials}");
        var random = new Random(unchecked((int)(request.Seed ^ (request.Seed >> 32))));
        var trials = new List<Dictionary<string, string>>();
        for (var t = 0; t < request.Trials; t++)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in request.Parameters)
            {
                values[p.Path] = p.Values is { Count: > 0 } list
                    ? list[random.Next(list.Count)].GetRawText()
                    : F(Draw(random, p.Min!.Value, p.Max!.Value, p.Log));
            }
            trials.Add(values);
        }
        return trials;
    }

    // Four significant digits: readable in tables, and far finer than any learning-rate effect.
    private static double Draw(Random random, double min, double max, bool log)
    {
        var u = random.NextDouble();
        var v = log ? Math.Exp(Math.Log(min) + u * (Math.Log(max) - Math.Log(min))) : min + u * (max - min);
        return Math.Clamp(double.Parse(v.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture), min, max);
    }

    private static string Apply(string baseConfigJson, IReadOnlyDictionary<string, string> values)
    {
        var root = (JsonObject)JsonNode.Parse(baseConfigJson)!;
        foreach (var (path, json) in values)
        {
            var parts = path.Split('.');
            var node = root;
            foreach (var part in parts[..^1]) node = (JsonObject)node[part]!;
            node[parts[^1]] = JsonNode.Parse(json);
        }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    /// <summary>Dotted paths of the configuration's options (objects are walked; arrays and values are leaves).</summary>
    public static IEnumerable<string> LeafPaths(JsonObject node, string prefix)
    {
        foreach (var (name, child) in node)
        {
            var path = prefix.Length == 0 ? name : $"{prefix}.{name}";
            if (child is JsonObject o) foreach (var p in LeafPaths(o, path)) yield return p;
            else yield return path;
        }
    }

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static int Distance(string a, string b)
    {
        var d = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) d[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = d[0];
            d[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = d[j];
                d[j] = Math.Min(Math.Min(d[j] + 1, d[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return d[b.Length];
    }
}
