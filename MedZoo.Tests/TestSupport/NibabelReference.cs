using System.Text.Json;

namespace MedZoo.Tests.TestSupport;

/// <summary>
/// Expected values for real volume files, from testdata/reference/nibabel.json (written by
/// scripts/make_reference.py with Debian's nibabel): sections "files" (Debian test data, paths
/// relative to <see cref="TestPaths.DebianRoot"/>), "generated" (files the script writes into
/// testdata/generated) and "metaimage" (ITK example MetaImages, read by the script's numpy reader).
/// </summary>
public static class NibabelReference
{
    private static readonly Lazy<JsonDocument?> Doc = new(() =>
        File.Exists(TestPaths.NibabelReference) ? JsonDocument.Parse(File.ReadAllText(TestPaths.NibabelReference)) : null);

    /// <summary>Folder of the files in the "generated" section.</summary>
    public static string GeneratedRoot => Path.Combine(TestPaths.TestData, "generated");

    /// <summary>Theory rows "section|key" for every entry of <paramref name="section"/>, or one "missing" row.</summary>
    public static TheoryData<string> Rows(string section)
    {
        var rows = new TheoryData<string>();
        if (Doc.Value is { } doc && doc.RootElement.TryGetProperty(section, out var s))
            foreach (var p in s.EnumerateObject()) rows.Add($"{section}|{p.Name}");
        if (rows.Count == 0) rows.Add("missing");
        return rows;
    }

    /// <summary>The entry of a row from <see cref="Rows"/>; skips the test when the reference or the file is absent.</summary>
    public static ReferenceEntry Require(string row)
    {
        Skip.If(row == "missing" || Doc.Value is null,
            $"{TestPaths.NibabelReference} is missing: run scripts/prereqs.sh (needs Debian's python3-nibabel)");
        var (section, key) = (row[..row.IndexOf('|')], row[(row.IndexOf('|') + 1)..]);
        var json = Doc.Value!.RootElement.GetProperty(section).GetProperty(key);
        var full = section == "generated" ? Path.Combine(GeneratedRoot, key) : Path.Combine(TestPaths.DebianRoot, key);
        Skip.IfNot(File.Exists(full), $"test data {full} is missing: run scripts/prereqs.sh");
        return new ReferenceEntry(key, full, json);
    }
}

/// <summary>One file's expected values (see scripts/make_reference.py for the fields).</summary>
public sealed record ReferenceEntry(string Key, string FullPath, JsonElement Json)
{
    public string? Error => Str("error");
    public string? DataError => Str("dataError");
    public string Format => Str("format")!;
    public string DataType => Str("datatype")!;
    public long[] Shape => Json.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
    public double[] Spacing => Json.GetProperty("spacing").EnumerateArray().Select(e => e.GetDouble()).ToArray();
    public double[] Affine => Json.GetProperty("affine").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(e => e.GetDouble())).ToArray();
    public long NanCount => Json.GetProperty("nanCount").GetInt64();
    public long Count => Json.GetProperty("count").GetInt64();
    public double? Min => Num("min");
    public double? Max => Num("max");
    public double? Mean => Num("mean");
    public double? Sum => Num("sum");

    private string? Str(string name) => Json.TryGetProperty(name, out var v) ? v.GetString() : null;
    private double? Num(string name) => Json.TryGetProperty(name, out var v) ? v.GetDouble() : null;

    public override string ToString() => Key;
}
