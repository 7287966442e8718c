using System.CommandLine;
using System.CommandLine.Parsing;
using System.Reflection;
using System.Text.Json;

namespace MedZoo.Web.Cli.Options;

/// <summary>How one property of an options class is spelled on the command line.</summary>
/// <param name="Name">Option name without dashes, as MedicalZoo users type it (<c>batchSz</c>).</param>
/// <param name="Aliases">Other accepted names.</param>
public sealed record OptionSpelling(string Name, params string[] Aliases)
{
    /// <summary>Values shown in the help and completed for an enum option, instead of its snake_case names.</summary>
    public IReadOnlyList<string>? ValueNames { get; init; }

    /// <summary>Extra accepted values of an enum option, mapped to enum member names (<c>poly</c> → <c>Polynomial</c>).</summary>
    public IReadOnlyDictionary<string, string>? Synonyms { get; init; }

    /// <summary>
    /// Names a text option takes (models, losses, datasets): listed after its documentation and completed. The options
    /// class checks the value, so aliases the list leaves out (MedicalZoo's class names) still work.
    /// </summary>
    public IReadOnlyList<string>? KnownValues { get; init; }
}

/// <summary>One generated option and the (nested) property it sets.</summary>
public sealed class BoundOption
{
    internal BoundOption(string path, Option option, PropertyInfo[] chain, object? classDefault, Func<ParseResult, object?> read)
    {
        Path = path;
        Option = option;
        Chain = chain;
        ClassDefault = classDefault;
        Read = read;
    }

    /// <summary>The property's path in the options object (<c>Sampling.BatchSize</c>), as <c>Validate()</c> names it.</summary>
    public string Path { get; }

    /// <summary>The command-line option.</summary>
    public Option Option { get; }

    /// <summary>The properties from the root options object down to the one set.</summary>
    public IReadOnlyList<PropertyInfo> Chain { get; }

    /// <summary>The property's value on a new options object: the option's default.</summary>
    public object? ClassDefault { get; }

    internal Func<ParseResult, object?> Read { get; }
}

/// <summary>
/// Generates command-line options from an options class: one option per public settable property,
/// nested options classes (<c>TrainerOptions.Sampling</c>, ...) included, with the class's default
/// as the option's default and the property's XML doc summary as its help. A property keeps the
/// name its users know when <c>spellings</c> gives one (<c>Sampling.BatchSize</c> → <c>--batchSz</c>);
/// any other gets its path in snake case, nested ones prefixed with their group
/// (<c>Augmentation.FlipProbability</c> → <c>--augmentation_flip_probability</c>). Adding a
/// property to the options class is therefore all it takes to add it to the command line.
/// </summary>
/// <typeparam name="T">The root options class.</typeparam>
public sealed class OptionsCommandLine<T> where T : class, new()
{
    private readonly Dictionary<string, BoundOption> _byPath = new(StringComparer.Ordinal);

    /// <param name="spellings">Names for properties by path; the rest are generated.</param>
    /// <param name="declaredByVerb">Paths the verb declares itself (their command-line meaning differs from the property's).</param>
    public OptionsCommandLine(IReadOnlyDictionary<string, OptionSpelling> spellings, IEnumerable<string>? declaredByVerb = null)
    {
        ArgumentNullException.ThrowIfNull(spellings);
        var skip = new HashSet<string>(declaredByVerb ?? [], StringComparer.Ordinal);
        var defaults = new T();
        var options = new List<BoundOption>();
        var unsupported = new List<string>();
        var generated = SettableProperties().Where(p => !skip.Contains(p.Path))
            .Select(p => (p.Path, p.Chain, Spelling: spellings.GetValueOrDefault(p.Path) ?? new OptionSpelling(GeneratedName(p.Chain))))
            .ToList();
        // A doc that refers to another property (<see cref="ThresholdOf"/>) names its option; a property reached by two
        // paths (one options class nested twice) has no single option, and keeps its short name.
        _optionByReference = generated.GroupBy(p => XmlDocumentation.MemberId(p.Chain[^1]), StringComparer.Ordinal).Where(g => g.Count() == 1)
            .ToDictionary(g => g.Key, g => "--" + g.Single().Spelling.Name, StringComparer.Ordinal);
        foreach (var (path, chain, spelling) in generated)
        {
            var property = chain[^1];
            var classDefault = ValueOf(defaults, chain);
            var description = XmlDocumentation.Summary(property, OptionForReference) is { } doc ? CliOptions.ForCommandLine(doc) : path;
            var type = property.PropertyType;
            var make = typeof(OptionsCommandLine<T>).GetMethod(nameof(Make), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
            if (make.Invoke(null, [spelling, description, classDefault, property]) is not (Option option, Func<ParseResult, object?> read))
            {
                unsupported.Add(path);
                continue;
            }
            var bound = new BoundOption(path, option, chain, classDefault, read);
            options.Add(bound);
            _byPath[path] = bound;
        }
        var duplicate = options.SelectMany(o => o.Option.Aliases.Prepend(o.Option.Name)).GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"two options of {typeof(T).Name} are both spelled '{duplicate.Key}'");
        Options = options;
        Unsupported = unsupported;
    }

    private readonly Dictionary<string, string> _optionByReference;

    /// <summary>
    /// The option that sets the property a doc <c>cref</c> names (<c>P:MedZoo.Engine.Data.Sampling.SamplingOptions.ThresholdOf</c>
    /// → <c>--sampling_threshold_of</c>), or null for anything else; the generated help uses it for references.
    /// </summary>
    public string? OptionForReference(string cref) => _optionByReference.GetValueOrDefault(cref);

    /// <summary>The generated options, in the order of the class's properties.</summary>
    public IReadOnlyList<BoundOption> Options { get; }

    /// <summary>Paths of settable properties whose type has no command-line form (a test keeps this empty).</summary>
    public IReadOnlyList<string> Unsupported { get; }

    /// <summary>The option that sets <paramref name="path"/>, or null.</summary>
    public BoundOption? Find(string path) => _byPath.GetValueOrDefault(path);

    /// <summary>A new options object with every option given on the command line applied; the rest keep the class's defaults.</summary>
    public T Bind(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var result = new T();
        foreach (var o in Options)
            if (WasGiven(parse, o)) SetValue(result, o.Chain, o.Read(parse));
        return result;
    }

    /// <summary>Whether the option was typed (not just defaulted).</summary>
    public static bool WasGiven(ParseResult parse, BoundOption option) =>
        parse?.GetResult(option?.Option ?? throw new ArgumentNullException(nameof(option))) is { Implicit: false };

    /// <summary>The option named in a <c>Validate()</c> error's ParamName (<c>Sampling.PatchSize</c> → <c>--dim</c>), or null.</summary>
    public string? OptionNameFor(string? path)
    {
        for (var p = path; !string.IsNullOrEmpty(p); p = p.Contains('.', StringComparison.Ordinal) ? p[..p.LastIndexOf('.')] : null)
            if (_byPath.TryGetValue(p, out var o)) return o.Option.Name;
        return null;
    }

    /// <summary>Every public settable property of <typeparamref name="T"/> with a path, nested options classes expanded.</summary>
    public static IEnumerable<(string Path, PropertyInfo[] Chain)> SettableProperties() => Walk(typeof(T), "", []);

    private static IEnumerable<(string, PropertyInfo[])> Walk(Type type, string prefix, PropertyInfo[] chain)
    {
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.SetMethod is not { IsPublic: true } || p.GetIndexParameters().Length > 0) continue;
            // Data carried in the options, not a setting (a resolved dataset plan): no form field, no option.
            if (p.GetCustomAttribute<System.ComponentModel.BrowsableAttribute>() is { Browsable: false }) continue;
            PropertyInfo[] here = [.. chain, p];
            if (IsNestedOptions(p.PropertyType))
                foreach (var inner in Walk(p.PropertyType, prefix + p.Name + ".", here)) yield return inner;
            else
                yield return (prefix + p.Name, here);
        }
    }

    // Options classes of the engine composed into others (DatasetOptions, SamplingOptions, ...).
    private static bool IsNestedOptions(Type t) =>
        t.IsClass && t != typeof(string) && !t.IsArray && t.Name.EndsWith("Options", StringComparison.Ordinal) && t.GetConstructor(Type.EmptyTypes) is not null;

    // Top level: the property in snake case; nested: the group first ("LossOptions.FocalGamma" -> "loss_focal_gamma").
    private static string GeneratedName(PropertyInfo[] chain)
    {
        var parts = chain.Select((p, i) => i < chain.Length - 1 && p.Name.EndsWith("Options", StringComparison.Ordinal) && p.Name.Length > 7 ? p.Name[..^7] : p.Name);
        return string.Join('_', parts.Select(JsonNamingPolicy.SnakeCaseLower.ConvertName));
    }

    private static object? ValueOf(object root, PropertyInfo[] chain)
    {
        object? value = root;
        foreach (var p in chain) value = value is null ? null : p.GetValue(value);
        return value;
    }

    private static void SetValue(object root, IReadOnlyList<PropertyInfo> chain, object? value)
    {
        var target = root;
        for (var i = 0; i < chain.Count - 1; i++) target = chain[i].GetValue(target)!;
        chain[^1].SetValue(target, value);
    }

    // Builds Option<TValue> for one property; null when the type has no command-line form.
    private static (Option, Func<ParseResult, object?>)? Make<TValue>(OptionSpelling spelling, string description, object? classDefault, PropertyInfo property)
    {
        var type = typeof(TValue);
        var core = Nullable.GetUnderlyingType(type) ?? type;
        Func<ArgumentResult, object?> parse;
        string[]? completions = null;
        string? valueName = null;
        (string Raw, string Typed)? helpDefault = null;
        var list = false;
        if (core == typeof(bool)) parse = r => CliOptions.ParseFlag(r); // --flag, --flag True, --flag=false
        else if (core == typeof(string))
        {
            parse = r => r.Tokens[^1].Value;
            valueName = "TEXT";
            if (spelling.KnownValues is { Count: > 0 } known)
            {
                completions = [.. known];
                description = $"{description.TrimEnd()} Names: {string.Join(", ", known)}.";
            }
        }
        else if (core == typeof(int) || core == typeof(long))
        {
            parse = core == typeof(int) ? r => CliOptions.ParseInt(r, r.Tokens[^1].Value) : r => CliOptions.ParseLong(r, r.Tokens[^1].Value);
            valueName = "N";
        }
        else if (core == typeof(double))
        {
            parse = r => CliOptions.ParseDouble(r, r.Tokens[^1].Value);
            valueName = "X";
        }
        else if (core == typeof(int[]) && property.Name.EndsWith("Size", StringComparison.Ordinal))
        {
            parse = CliOptions.ParseSize;
            valueName = "D H W";
            list = true;
        }
        else if (core == typeof(int[]))
        {
            parse = r => CliOptions.Values(r).Select(v => CliOptions.ParseInt(r, v)).ToArray();
            valueName = "N...";
            list = true;
        }
        else if (core == typeof(double[]))
        {
            parse = r => CliOptions.Values(r).Select(v => CliOptions.ParseDouble(r, v)).ToArray();
            valueName = "X...";
            list = true;
        }
        else if (core == typeof(string[]))
        {
            parse = r => CliOptions.Values(r).ToArray();
            valueName = "TEXT...";
            list = true;
        }
        else if (core.IsEnum)
        {
            var names = Enum.GetNames(core);
            completions = spelling.ValueNames?.ToArray() ?? [.. names.Select(JsonNamingPolicy.SnakeCaseLower.ConvertName)];
            valueName = string.Join('|', completions);
            var shown = completions;
            string? MemberOf(string token) =>
                spelling.Synonyms?.FirstOrDefault(s => string.Equals(s.Key, token, StringComparison.OrdinalIgnoreCase)).Value
                ?? names.FirstOrDefault(n => string.Equals(Squash(n), Squash(token), StringComparison.Ordinal));
            parse = r =>
            {
                var token = r.Tokens[^1].Value.Trim();
                if (MemberOf(token) is { } name) return Enum.Parse(core, name);
                r.AddError($"option {CliOptions.OptionName(r)}: '{token}' is not one of {string.Join(", ", shown)}");
                return Activator.CreateInstance(core);
            };
            // The help shows the default as it is typed (adam), not as the enum member is named (Adam).
            if (classDefault is not null)
            {
                var member = classDefault.ToString()!;
                helpDefault = (member, completions.FirstOrDefault(c => MemberOf(c) == member) ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(member));
            }
        }
        else return null;

        var option = new Option<TValue>("--" + spelling.Name, [.. spelling.Aliases.Select(a => "--" + a)]) { Description = description, HelpName = valueName };
        option.CustomParser = r => (TValue)parse(r)!;
        if (list)
        {
            option.Arity = ArgumentArity.OneOrMore;
            option.AllowMultipleArgumentsPerToken = true;
        }
        else
        {
            CliOptions.Repeatable(option, core == typeof(bool) ? ArgumentArity.ZeroOrMore : ArgumentArity.OneOrMore);
        }
        if (completions is not null)
        {
            // Our names only, not System.CommandLine's enum member names as well.
            option.CompletionSources.Clear();
            option.CompletionSources.Add(completions);
        }
        if (classDefault is not null)
        {
            // Arrays are copied so that a bound value never aliases the default.
            option.DefaultValueFactory = _ => classDefault is Array a ? (TValue)a.Clone() : (TValue)classDefault;
        }
        if (helpDefault is { } shownDefault) CliOptions.SetHelpDefault(option, shownDefault.Raw, shownDefault.Typed);
        return (option, p => p.GetValue(option));
    }

    private static string Squash(string s) => s.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
}
