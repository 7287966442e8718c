using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace MedZoo.Web.Runs.Forms;

/// <summary>How a form edits one option.</summary>
public enum OptionKind
{
    Text,
    Integer,
    Number,
    Boolean,
    /// <summary>An enum, or a string with a known list of values.</summary>
    Choice,
    /// <summary>Numbers separated by spaces or commas (patch size "32 32 32").</summary>
    List,
}

/// <summary>One editable option of an options object, addressed by its dotted path ("Sampling.PatchSize").</summary>
public sealed class OptionField
{
    private readonly PropertyInfo[] _chain;

    internal OptionField(PropertyInfo[] chain, OptionKind kind, IReadOnlyList<string>? choices)
    {
        _chain = chain;
        Kind = kind;
        Choices = choices;
        Path = string.Join('.', chain.Select(p => p.Name));
        Group = chain.Length > 1 ? chain[0].Name : "";
        // A nested options' generic "Name" or "Kind" is labelled by the options it belongs to ("Dataset", "Scheduler").
        Label = OptionFields.Humanize(chain.Length > 1 && chain[^1].Name is "Name" or "Kind" ? chain[^2].Name : chain[^1].Name);
        Help = XmlDocs.Summary(chain[^1]);
        Type = chain[^1].PropertyType;
        IsNullable = Nullable.GetUnderlyingType(Type) is not null || (!Type.IsValueType && new NullabilityInfoContext().Create(chain[^1]).WriteState == NullabilityState.Nullable);
    }

    public string Path { get; }
    /// <summary>The top-level nested options it belongs to; "" for top-level options.</summary>
    public string Group { get; }
    public string Label { get; }
    public string? Help { get; }
    public OptionKind Kind { get; }
    public Type Type { get; }
    /// <summary>Empty input means null (the component's own default).</summary>
    public bool IsNullable { get; }
    public IReadOnlyList<string>? Choices { get; }

    /// <summary>The value in <paramref name="root"/>.</summary>
    public object? Get(object root)
    {
        object? o = root;
        foreach (var p in _chain)
        {
            if (o is null) return null;
            o = p.GetValue(o);
        }
        return o;
    }

    /// <summary>Sets the value in <paramref name="root"/>.</summary>
    public void Set(object root, object? value)
    {
        var o = root;
        foreach (var p in _chain[..^1]) o = p.GetValue(o) ?? throw new InvalidOperationException($"{Path}: {p.Name} is null");
        _chain[^1].SetValue(o, value);
    }

    /// <summary>The value as the form shows it.</summary>
    public string Format(object root) => Get(root) switch
    {
        null => "",
        bool b => b ? "true" : "false",
        IFormattable f when Kind is not OptionKind.List => f.ToString(null, CultureInfo.InvariantCulture),
        string s => s,
        IEnumerable e => string.Join(' ', e.Cast<object>().Select(x => Convert.ToString(x, CultureInfo.InvariantCulture))),
        var v => v.ToString() ?? "",
    };

    /// <summary>
    /// Parses form text into the property's type; returns what is wrong as a sentence about this field
    /// (shown under it, so without its label), or null.
    /// </summary>
    public string? TryParse(string? text, out object? value)
    {
        value = null;
        text = text?.Trim() ?? "";
        var target = Nullable.GetUnderlyingType(Type) ?? Type;
        if (text.Length == 0)
        {
            if (IsNullable || target == typeof(string)) return null;
            return "Enter a value: this option has no default.";
        }
        try
        {
            if (target == typeof(string)) value = text;
            else if (OptionFields.IsParsable(target) && !target.IsPrimitive)
                value = target.GetMethod("Parse", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(IFormatProvider)])!
                    .Invoke(null, [text, CultureInfo.InvariantCulture]);
            else if (target == typeof(bool)) value = bool.Parse(text);
            else if (target.IsEnum) value = Enum.Parse(target, text, ignoreCase: true);
            else if (Kind == OptionKind.List)
            {
                var element = target.IsArray ? target.GetElementType()! : target.GetGenericArguments()[0];
                var parts = text.Split([' ', ',', ';'], StringSplitOptions.RemoveEmptyEntries)
                    .Select(s => Convert.ChangeType(s, element, CultureInfo.InvariantCulture)).ToArray();
                var array = Array.CreateInstance(element, parts.Length);
                for (var i = 0; i < parts.Length; i++) array.SetValue(parts[i], i);
                value = target.IsArray ? array : Activator.CreateInstance(target, array);
            }
            else value = Convert.ChangeType(text, target, CultureInfo.InvariantCulture);
            return null;
        }
        catch (TargetInvocationException e) when (e.InnerException is ArgumentException a)
        {
            return ValidationMessages.Sentence(MedZoo.Engine.Training.TrainerOptions.PlainMessage(a));
        }
        catch (TargetInvocationException e) when (e.InnerException is FormatException f)
        {
            return ValidationMessages.Sentence(f.Message);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or ArgumentException)
        {
            return Kind switch
            {
                OptionKind.Integer => $"'{text}' is not a whole number: enter digits only, e.g. 10.",
                OptionKind.Number => $"'{text}' is not a number: enter e.g. 0.5 or 1e-3.",
                OptionKind.List => $"'{text}' is not a list of numbers: separate them with spaces, e.g. 32 32 32.",
                OptionKind.Choice => $"'{text}' is not one of the choices.",
                _ => $"'{text}' is not valid here.",
            };
        }
    }
}

/// <summary>
/// Lists the editable options of an options type by reflection, nested option objects included,
/// so the New run form covers every trainer option (and its documentation) as the trainer grows.
/// </summary>
public static partial class OptionFields
{
    /// <summary>Describes every public read-write property; <paramref name="choices"/> supplies value lists for strings (model names, dataset names, ...).</summary>
    public static IReadOnlyList<OptionField> Describe(Type type, Func<string, IReadOnlyList<string>?>? choices = null)
    {
        var fields = new List<OptionField>();
        Walk(type, [], fields, choices ?? (_ => null), depth: 0);
        return fields;
    }

    private static void Walk(Type type, PropertyInfo[] prefix, List<OptionField> fields, Func<string, IReadOnlyList<string>?> choices, int depth)
    {
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0
                     && p.GetCustomAttribute<System.ComponentModel.BrowsableAttribute>()?.Browsable != false)) // [Browsable(false)]: data, not a form field
        {
            var chain = (PropertyInfo[])[.. prefix, p];
            var path = string.Join('.', chain.Select(c => c.Name));
            var t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            if (t == typeof(string))
            {
                var known = choices(path);
                fields.Add(new OptionField(chain, known is null ? OptionKind.Text : OptionKind.Choice, known));
            }
            else if (t == typeof(bool)) fields.Add(new OptionField(chain, OptionKind.Boolean, null));
            else if (t.IsEnum) fields.Add(new OptionField(chain, OptionKind.Choice, Enum.GetNames(t)));
            else if (t == typeof(int) || t == typeof(long) || t == typeof(short)) fields.Add(new OptionField(chain, OptionKind.Integer, null));
            else if (t == typeof(double) || t == typeof(float) || t == typeof(decimal)) fields.Add(new OptionField(chain, OptionKind.Number, null));
            else if (IsNumberList(t)) fields.Add(new OptionField(chain, OptionKind.List, null));
            else if (IsParsable(t)) fields.Add(new OptionField(chain, OptionKind.Text, null));
            else if (t.IsClass && t.GetConstructor(Type.EmptyTypes) is not null && !typeof(IEnumerable).IsAssignableFrom(t) && depth < 3)
                Walk(t, chain, fields, choices, depth + 1);
            // Anything else (dictionaries, delegates) is not a form field; it keeps its default.
        }
    }

    /// <summary>Value types such as a patch size that parse from and format to text themselves.</summary>
    internal static bool IsParsable(Type t) =>
        t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IParsable<>) && i.GetGenericArguments()[0] == t);

    private static bool IsNumberList(Type t)
    {
        var element = t.IsArray ? t.GetElementType() : t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>) ? t.GetGenericArguments()[0] : null;
        return element is not null && (element == typeof(int) || element == typeof(long) || element == typeof(double) || element == typeof(float));
    }

    /// <summary>"BaseFilters" → "Base filters", "LearningRate" → "Learning rate".</summary>
    public static string Humanize(string name)
    {
        var words = Words().Matches(name).Select(m => m.Value).ToList();
        return string.Join(' ', words.Select((w, i) => i == 0 ? w : w.All(char.IsUpper) ? w : w.ToLowerInvariant()));
    }

    [GeneratedRegex("[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")]
    private static partial Regex Words();
}
