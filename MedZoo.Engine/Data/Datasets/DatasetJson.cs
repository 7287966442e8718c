using System.Globalization;
using System.Text.Json;

namespace MedZoo.Engine.Data.Datasets;

/// <summary>
/// The <c>dataset.json</c> a Decathlon or nnU-Net folder describes itself with, read the same way for
/// both layouts: the folder's full path, the file's path (for messages) and its root JSON object.
/// </summary>
/// <param name="Root">The dataset folder's full path.</param>
/// <param name="Path">The full path of its dataset.json.</param>
/// <param name="Document">The file's root object.</param>
internal sealed record DatasetJson(string Root, string Path, JsonElement Document)
{
    /// <summary>The file's name in the dataset folder.</summary>
    public const string FileName = "dataset.json";

    /// <summary>
    /// Reads <paramref name="folder"/>/dataset.json; null with the one error that stops the scan when the
    /// folder has none (<see cref="DatasetLayout.WrongFolder"/>), the file is not JSON, or it holds no object.
    /// </summary>
    /// <param name="dataset">The dataset's name, for messages.</param>
    /// <param name="folder">The folder the user gave.</param>
    /// <param name="expected">What the layout expects, for a wrong folder's message.</param>
    /// <param name="error">Why there is no result.</param>
    public static DatasetJson? TryRead(string dataset, string? folder, string expected, out string? error)
    {
        if (folder is null || !File.Exists(System.IO.Path.Combine(folder, FileName)))
        {
            error = DatasetLayout.WrongFolder(dataset, folder, expected);
            return null;
        }
        var root = System.IO.Path.GetFullPath(folder);
        var json = System.IO.Path.Combine(root, FileName);
        JsonElement doc;
        try
        {
            using var stream = File.OpenRead(json);
            doc = JsonDocument.Parse(stream).RootElement.Clone();
        }
        catch (JsonException e)
        {
            error = $"dataset '{dataset}': '{json}' is not valid JSON: {e.Message}";
            return null;
        }
        if (doc.ValueKind != JsonValueKind.Object)
        {
            error = $"dataset '{dataset}': '{json}' must hold a JSON object";
            return null;
        }
        error = null;
        return new DatasetJson(root, json, doc);
    }

    /// <summary>Names keyed "0", "1", ... in the object <paramref name="property"/>; the keys must be exactly 0..n-1.</summary>
    public IReadOnlyList<string> IndexedNames(string property, List<string> errors)
    {
        if (!Document.TryGetProperty(property, out var obj) || obj.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{Path}' has no \"{property}\" object");
            return [];
        }
        var pairs = new SortedDictionary<int, string>();
        foreach (var p in obj.EnumerateObject())
        {
            if (!int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var k) || p.Value.ValueKind != JsonValueKind.String)
            {
                errors.Add($"'{Path}' \"{property}\": entry \"{p.Name}\" must map an index (\"0\", \"1\", ...) to a name");
                continue;
            }
            pairs[k] = p.Value.GetString()!;
        }
        if (pairs.Count > 0 && (pairs.Keys.First() != 0 || pairs.Keys.Last() != pairs.Count - 1))
            errors.Add($"'{Path}' \"{property}\" indices must be 0..{pairs.Count - 1} without gaps, got {string.Join(", ", pairs.Keys)}");
        return pairs.Values.ToArray();
    }

    /// <summary>"numTraining" when it is an integer, else null.</summary>
    public int? NumTraining =>
        Document.TryGetProperty("numTraining", out var num) && num.ValueKind == JsonValueKind.Number && num.TryGetInt32(out var n) ? n : null;

    /// <summary>
    /// The full path of a file dataset.json lists, or null when it is not a plain path inside the dataset
    /// folder (absolute, "..", a NUL character): a dataset.json names its own files, never other files on the server.
    /// </summary>
    public string? Resolve(string relative)
    {
        if (relative.Length == 0 || relative.Contains('\0', StringComparison.Ordinal) || System.IO.Path.IsPathRooted(relative)) return null;
        var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, relative.StartsWith("./", StringComparison.Ordinal) ? relative[2..] : relative));
        var inside = Root.EndsWith(System.IO.Path.DirectorySeparatorChar) ? Root : Root + System.IO.Path.DirectorySeparatorChar;
        return full.StartsWith(inside, StringComparison.Ordinal) ? full : null;
    }
}
