using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace MedZoo.Web.Runs.Forms;

/// <summary>
/// Reads the summaries of an assembly's XML documentation file (built next to it), so that forms
/// show each option's own documentation instead of a second, drifting copy. Missing files give no help.
/// </summary>
public static partial class XmlDocs
{
    private static readonly ConcurrentDictionary<Assembly, IReadOnlyDictionary<string, string>> Cache = new();

    /// <summary>The summary of a property as plain text, or null.</summary>
    public static string? Summary(PropertyInfo property)
    {
        var type = property.DeclaringType!;
        var docs = Cache.GetOrAdd(type.Assembly, Load);
        return docs.TryGetValue($"P:{type.FullName?.Replace('+', '.')}.{property.Name}", out var s) ? s : null;
    }

    private static IReadOnlyDictionary<string, string> Load(Assembly assembly)
    {
        var path = Path.ChangeExtension(assembly.Location, ".xml");
        if (string.IsNullOrEmpty(assembly.Location) || !File.Exists(path)) return new Dictionary<string, string>();
        var doc = XDocument.Load(path);
        return doc.Descendants("member")
            .Where(m => m.Attribute("name") is not null && m.Element("summary") is not null)
            .ToDictionary(m => m.Attribute("name")!.Value, m => Plain(m.Element("summary")!), StringComparer.Ordinal);
    }

    // Read by people who set options, not by programmers: a reference to a type or member reads as
    // words (<see cref="T:A.LossFactory"/> → "loss factory", a property → its form label), a field of
    // an enum as its value, <c>x</c> → x, "null" (no value) → "empty" as the form shows it; whitespace collapsed.
    private static string Plain(XElement summary)
    {
        foreach (var see in summary.Descendants().Where(e => e.Name == "see" || e.Name == "paramref" || e.Name == "typeparamref").ToList())
        {
            var target = see.Attribute("cref")?.Value ?? see.Attribute("name")?.Value ?? see.Attribute("langword")?.Value ?? "";
            var paren = target.IndexOf('(', StringComparison.Ordinal);
            if (paren >= 0) target = target[..paren];
            var name = target[(target.LastIndexOfAny([':', '.']) + 1)..];
            see.ReplaceWith(target.StartsWith("T:", StringComparison.Ordinal) || target.StartsWith("M:", StringComparison.Ordinal)
                ? OptionFields.Humanize(name).ToLowerInvariant()
                : target.StartsWith("P:", StringComparison.Ordinal) ? OptionFields.Humanize(name) : name);
        }
        var text = Spaces().Replace(summary.Value, " ").Trim();
        text = NullOrEmpty().Replace(text, m => char.IsUpper(m.Value[0]) ? "Empty" : "empty");
        return Null().Replace(text, m => char.IsUpper(m.Value[0]) ? "Empty" : "empty");
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"\b[Nn]ull or empty\b")]
    private static partial Regex NullOrEmpty();

    [GeneratedRegex(@"\b[Nn]ull\b")]
    private static partial Regex Null();
}
