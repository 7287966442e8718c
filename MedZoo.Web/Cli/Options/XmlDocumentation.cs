using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace MedZoo.Web.Cli.Options;

/// <summary>
/// Reads the summaries of an assembly's XML documentation file (the <c>.xml</c> the compiler writes
/// next to the dll with GenerateDocumentationFile, copied into the output of every project that
/// references it) as one line of plain text, for help texts generated from the code's own docs.
/// A reference to an enum member is written as the command line takes it (<c>SchedulerKind.None</c> → <c>none</c>).
/// </summary>
public static class XmlDocumentation
{
    private static readonly ConcurrentDictionary<Assembly, IReadOnlyDictionary<string, string>> Files = new();

    /// <summary>The property's summary as plain text, or null when the assembly ships no documentation or the property has none.</summary>
    public static string? Summary(PropertyInfo property)
    {
        ArgumentNullException.ThrowIfNull(property);
        var type = property.DeclaringType!;
        return Load(type.Assembly).TryGetValue($"P:{type.FullName!.Replace('+', '.')}.{property.Name}", out var text) ? text : null;
    }

    /// <summary>Whether the documentation file of <paramref name="assembly"/> was found.</summary>
    public static bool IsAvailable(Assembly assembly) => Load(assembly).Count > 0;

    private static IReadOnlyDictionary<string, string> Load(Assembly assembly) => Files.GetOrAdd(assembly, a =>
    {
        var path = Path.ChangeExtension(a.Location, ".xml");
        if (string.IsNullOrEmpty(a.Location) || !File.Exists(path)) return new Dictionary<string, string>();
        var members = XDocument.Load(path).Root?.Element("members")?.Elements("member") ?? [];
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var m in members)
            if (m.Attribute("name")?.Value is { } name && m.Element("summary") is { } summary)
                map[name] = PlainText(summary, a);
        return map;
    });

    /// <summary>
    /// A doc element as one line: code and references as their names, whitespace collapsed; references to members of
    /// enums in <paramref name="assembly"/> in snake case, as options take them.
    /// </summary>
    internal static string PlainText(XElement element, Assembly? assembly = null)
    {
        var sb = new StringBuilder();
        Append(sb, element, assembly);
        return string.Join(' ', sb.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    private static void Append(StringBuilder sb, XElement element, Assembly? assembly)
    {
        foreach (var node in element.Nodes())
        {
            switch (node)
            {
                case XText text:
                    sb.Append(text.Value);
                    break;
                case XElement { Name.LocalName: "see" or "seealso" } see:
                    if (!see.IsEmpty) Append(sb, see, assembly);
                    else if (see.Attribute("langword")?.Value is { } word) sb.Append(word);
                    else if (see.Attribute("cref")?.Value is { } cref) sb.Append(IsEnumMember(cref, assembly) ? JsonNamingPolicy.SnakeCaseLower.ConvertName(ShortName(cref)) : ShortName(cref));
                    break;
                case XElement { Name.LocalName: "paramref" or "typeparamref" } p:
                    sb.Append(p.Attribute("name")?.Value);
                    break;
                case XElement { Name.LocalName: "para" or "br" } p:
                    sb.Append(' ');
                    Append(sb, p, assembly);
                    sb.Append(' ');
                    break;
                case XElement e:
                    Append(sb, e, assembly);
                    break;
            }
        }
    }

    // "F:MedZoo.Engine.Training.SchedulerKind.None": a field of an enum type of the assembly (nested types are spelled
    // with '.' in crefs and '+' in reflection).
    private static bool IsEnumMember(string cref, Assembly? assembly)
    {
        var member = cref.LastIndexOf('.');
        if (assembly is null || !cref.StartsWith("F:", StringComparison.Ordinal) || member < 3) return false;
        for (var candidate = cref[2..member]; ; )
        {
            if (assembly.GetType(candidate) is { } t) return t.IsEnum;
            var dot = candidate.LastIndexOf('.');
            if (dot < 0) return false;
            candidate = candidate[..dot] + "+" + candidate[(dot + 1)..];
        }
    }

    // "P:MedZoo.Engine.Training.TrainerOptions.Momentum" -> "Momentum"; "M:A.B.C(System.Int32)" -> "C".
    private static string ShortName(string cref)
    {
        var name = cref.Contains(':', StringComparison.Ordinal) ? cref[(cref.IndexOf(':', StringComparison.Ordinal) + 1)..] : cref;
        var paren = name.IndexOf('(', StringComparison.Ordinal);
        if (paren >= 0) name = name[..paren];
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0) name = name[..tick];
        return name[(name.LastIndexOf('.') + 1)..];
    }
}
