using System.Globalization;
using System.Text.Json;

namespace MedZoo.Web.Sweeps;

/// <summary>
/// The New sweep form's parameter box, one option per line:
/// <code>
/// learningRate: 0.001 | 0.003 | 0.01
/// loss: dice | dice_ce
/// sampling.patchSize: [16,16,16] | [24,24,24]
/// learningRate: 0.0001 .. 0.1 log      (a range, random search only)
/// </code>
/// Values are JSON where they parse as JSON, text otherwise. Empty lines and lines starting with # are skipped.
/// </summary>
public static class SweepText
{
    /// <summary>The parameters the lines describe; throws <see cref="ArgumentException"/> naming the line at fault.</summary>
    public static IReadOnlyList<SweepParameter> Parse(string? text)
    {
        var parameters = new List<SweepParameter>();
        var lines = (text ?? "").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == line.Length - 1)
                throw new ArgumentException($"line {i + 1} \"{Shorten(line)}\": write an option, a colon and its values, e.g. learningRate: 0.001 | 0.01");
            var path = line[..colon].Trim();
            var rest = line[(colon + 1)..].Trim();
            var range = rest.Split("..", 2, StringSplitOptions.TrimEntries);
            if (range.Length == 2 && !rest.Contains('|', StringComparison.Ordinal))
            {
                var log = range[1].EndsWith(" log", StringComparison.OrdinalIgnoreCase);
                var maxText = log ? range[1][..^4].Trim() : range[1];
                if (!double.TryParse(range[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var min)
                    || !double.TryParse(maxText, NumberStyles.Float, CultureInfo.InvariantCulture, out var max))
                    throw new ArgumentException($"line {i + 1} ({path}): a range is two numbers, e.g. 0.0001 .. 0.1 log");
                parameters.Add(new SweepParameter { Path = path, Min = min, Max = max, Log = log });
                continue;
            }
            var values = rest.Split('|', StringSplitOptions.TrimEntries);
            if (values.Any(v => v.Length == 0)) throw new ArgumentException($"line {i + 1} ({path}): an empty value between the | signs");
            parameters.Add(new SweepParameter { Path = path, Values = values.Select(ToJson).ToList() });
        }
        return parameters;
    }

    /// <summary>The parameters as the form's lines (the inverse of <see cref="Parse"/>).</summary>
    public static string Format(IEnumerable<SweepParameter> parameters) =>
        string.Join('\n', parameters.Select(p => p.Values is { Count: > 0 } v
            ? $"{p.Path}: {string.Join(" | ", v.Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText()))}"
            : string.Create(CultureInfo.InvariantCulture, $"{p.Path}: {p.Min} .. {p.Max}{(p.Log ? " log" : "")}")));

    private static JsonElement ToJson(string value)
    {
        try
        {
            using var doc = JsonDocument.Parse(value);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(value);
        }
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
