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
/// A reference to an enum member is written as the command line takes it (<c>SchedulerKind.None</c> → <c>none</c>), one
/// to a constant as its value (<c>CpuConvolution.Variable</c> → <c>MEDZOO_CPU_CONV</c>), and
/// one to another option's property as that option where the caller names it (<c>ThresholdOf</c> → <c>--sampling_threshold_of</c>).
/// </summary>
public static class XmlDocumentation
{
    private static readonly ConcurrentDictionary<Assembly, IReadOnlyDictionary<string, string>> Files = new();

    /// <summary>
    /// The property's summary as plain text, or null when the assembly ships no documentation or the property has none.
    /// <paramref name="reference"/> may name what a <c>cref</c> refers to (another property's option name); where it
    /// returns null, the reference is written as its short name.
    /// </summary>
    public static string? Summary(PropertyInfo property, Func<string, string?>? reference = null)
    {
        ArgumentNullException.ThrowIfNull(property);
        var type = property.DeclaringType!;
        // Kept as text and parsed per call: LINQ to XML promises nothing for concurrent reads of one tree.
        return Load(type.Assembly).TryGetValue(MemberId(property), out var summary) ? PlainText(XElement.Parse(summary), type.Assembly, reference) : null;
    }

    /// <summary>The documentation id of a property, as a <c>cref</c> names it (<c>P:MedZoo.Engine.Data.Sampling.SamplingOptions.ThresholdOf</c>).</summary>
    public static string MemberId(PropertyInfo property)
    {
        ArgumentNullException.ThrowIfNull(property);
        return $"P:{property.DeclaringType!.FullName!.Replace('+', '.')}.{property.Name}";
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
                map[name] = summary.ToString(SaveOptions.DisableFormatting);
        return map;
    });

    /// <summary>
    /// A doc element as one line: code and references as their names, whitespace collapsed; a reference as
    /// <paramref name="reference"/> names it where it does, a member of an enum in <paramref name="assembly"/> in snake
    /// case, as options take it, and a constant of <paramref name="assembly"/> as its value.
    /// </summary>
    internal static string PlainText(XElement element, Assembly? assembly = null, Func<string, string?>? reference = null)
    {
        var sb = new StringBuilder();
        Append(sb, element, assembly, reference);
        return string.Join(' ', sb.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    private static void Append(StringBuilder sb, XElement element, Assembly? assembly, Func<string, string?>? reference)
    {
        foreach (var node in element.Nodes())
        {
            switch (node)
            {
                case XText text:
                    sb.Append(text.Value);
                    break;
                case XElement { Name.LocalName: "see" or "seealso" } see:
                    if (!see.IsEmpty) Append(sb, see, assembly, reference);
                    else if (see.Attribute("langword")?.Value is { } word) sb.Append(word);
                    else if (see.Attribute("cref")?.Value is { } cref)
                        sb.Append(reference?.Invoke(cref) ?? Field(cref, assembly) switch
                        {
                            { DeclaringType.IsEnum: true } => JsonNamingPolicy.SnakeCaseLower.ConvertName(ShortName(cref)),
                            { IsLiteral: true } f => Convert.ToString(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture),
                            _ => ShortName(cref),
                        });
                    break;
                case XElement { Name.LocalName: "paramref" or "typeparamref" } p:
                    sb.Append(p.Attribute("name")?.Value);
                    break;
                case XElement { Name.LocalName: "para" or "br" } p:
                    sb.Append(' ');
                    Append(sb, p, assembly, reference);
                    sb.Append(' ');
                    break;
                case XElement e:
                    Append(sb, e, assembly, reference);
                    break;
            }
        }
    }

    // "F:MedZoo.Engine.Training.SchedulerKind.None": a field of a type of the assembly (nested types are spelled with '.'
    // in crefs and '+' in reflection), or null.
    private static FieldInfo? Field(string cref, Assembly? assembly)
    {
        var member = cref.LastIndexOf('.');
        if (assembly is null || !cref.StartsWith("F:", StringComparison.Ordinal) || member < 3) return null;
        for (var candidate = cref[2..member]; ; )
        {
            if (assembly.GetType(candidate) is { } t) return t.GetField(cref[(member + 1)..], BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static);
            var dot = candidate.LastIndexOf('.');
            if (dot < 0) return null;
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
