using System.Globalization;
using System.Text.Json;

namespace MedZoo.Web.Runs;

/// <summary>Turns a run's JSON configuration into "path → value" rows for tables and comparisons.</summary>
public static class ConfigFlattener
{
    /// <summary>Flattens objects with dotted paths and arrays as comma-separated values; invalid JSON gives one "config" row.</summary>
    public static IReadOnlyDictionary<string, string> Flatten(string json)
    {
        var rows = new SortedDictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "{}" : json);
            Walk(doc.RootElement, "", rows);
        }
        catch (JsonException)
        {
            rows["config"] = json;
        }
        return rows;
    }

    /// <summary>Keys whose value differs between the configurations (a missing key counts as different).</summary>
    public static IReadOnlyList<string> DifferingKeys(IReadOnlyList<IReadOnlyDictionary<string, string>> configs) =>
        configs.SelectMany(c => c.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Where(k => configs.Select(c => c.TryGetValue(k, out var v) ? v : null).Distinct().Count() > 1)
            .ToList();

    private static void Walk(JsonElement e, string path, SortedDictionary<string, string> rows)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) Walk(p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}", rows);
                break;
            case JsonValueKind.Array:
                rows[path] = string.Join(", ", e.EnumerateArray().Select(Scalar));
                break;
            default:
                rows[path] = Scalar(e);
                break;
        }
    }

    private static string Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString() ?? "",
        JsonValueKind.Number => e.TryGetDouble(out var d) ? d.ToString("G", CultureInfo.InvariantCulture) : e.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "",
        _ => e.GetRawText(),
    };
}
