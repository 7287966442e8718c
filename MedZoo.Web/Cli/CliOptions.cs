using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace MedZoo.Web.Cli;

/// <summary>
/// Factories for the options verbs declare, spelled as MedicalZoo's scripts spell them
/// (<c>--batchSz 4</c>, <c>--dim 64 64 64</c>, <c>--augmentation False</c>). Every value is parsed
/// with the invariant culture, lists take several values after one option or comma-separated
/// (<c>--dim 64,64,64</c>), and a bad value is a parse error that names the option and says what
/// was expected ("option --batchSz: 'two' is not an integer").
/// </summary>
public static class CliOptions
{
    private static readonly char[] ListSeparators = [','];

    // Defaults whose help text differs from the value's ToString() (enum members: Adam is typed adam).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Option, HelpDefaultText> HelpDefaults = new();

    private sealed record HelpDefaultText(string Raw, string Typed);

    /// <summary>
    /// Shows <paramref name="typed"/> as the option's default in the help where System.CommandLine would show
    /// <paramref name="raw"/> (the default value's ToString()).
    /// </summary>
    public static void SetHelpDefault(Option option, string raw, string typed) => HelpDefaults.AddOrUpdate(option, new HelpDefaultText(raw, typed));

    /// <summary>
    /// An options class's doc as the command line reads: its <c>null</c> (a property left unset) is an option not given,
    /// which is how a user leaves it unset ("null = the model's default" → "not given = the model's default").
    /// </summary>
    public static string ForCommandLine(string doc) =>
        System.Text.RegularExpressions.Regex.Replace(doc, @"\bnull\b", "not given", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>The default's help text as System.CommandLine writes it and as it is typed, set by <see cref="SetHelpDefault"/>; null if none.</summary>
    public static (string Raw, string Typed)? HelpDefault(Option option) => HelpDefaults.TryGetValue(option, out var d) ? (d.Raw, d.Typed) : null;

    /// <summary>Whether <paramref name="option"/> was typed on the command line (not just defaulted).</summary>
    public static bool Given(this ParseResult parse, Option option) =>
        parse?.GetResult(option ?? throw new ArgumentNullException(nameof(option))) is { Implicit: false };

    /// <summary>A switch: <c>--json</c>, or with a value as MedicalZoo scripts write it (<c>--augmentation False</c>).</summary>
    public static Option<bool> Flag(string name, string description, bool defaultValue = false, params string[] aliases) =>
        Repeatable(new Option<bool>(Dashed(name), Dashed(aliases))
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = ParseFlag,
        }, ArgumentArity.ZeroOrMore);

    /// <summary>One text value; null when absent and <paramref name="defaultValue"/> is null.</summary>
    public static Option<string?> Text(string name, string description, string? defaultValue = null, string? valueName = null, params string[] aliases)
    {
        var o = Repeatable(new Option<string?>(Dashed(name), Dashed(aliases))
        {
            Description = description,
            HelpName = valueName ?? "TEXT",
            CustomParser = r => r.Tokens[^1].Value,
        });
        if (defaultValue is not null) o.DefaultValueFactory = _ => defaultValue;
        return o;
    }

    /// <summary>One text value from a fixed set (completed and listed in the help), compared case-insensitively.</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, IReadOnlyList<string> values, params string[] aliases)
    {
        var o = Repeatable(new Option<string>(Dashed(name), Dashed(aliases))
        {
            Description = description,
            HelpName = string.Join('|', values),
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r =>
            {
                var token = r.Tokens[^1].Value.Trim();
                var match = values.FirstOrDefault(v => string.Equals(v, token, StringComparison.OrdinalIgnoreCase));
                if (match is null) r.AddError($"option {OptionName(r)}: '{token}' is not one of {string.Join(", ", values)}");
                return match ?? defaultValue;
            },
        });
        o.CompletionSources.Add([.. values]);
        return o;
    }

    /// <summary>One integer.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, params string[] aliases) =>
        Repeatable(new Option<int>(Dashed(name), Dashed(aliases))
        {
            Description = description,
            HelpName = "N",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseInt(r, r.Tokens[^1].Value),
        });

    /// <summary>One integer, null when absent (the component's own default applies).</summary>
    public static Option<int?> OptionalInt(string name, string description, params string[] aliases) =>
        Repeatable(new Option<int?>(Dashed(name), Dashed(aliases))
        {
            Description = description,
            HelpName = "N",
            CustomParser = r => ParseInt(r, r.Tokens[^1].Value),
        });

    /// <summary>One number (<c>1e-3</c>, <c>-0.5</c>).</summary>
    public static Option<double> Number(string name, string description, double defaultValue, params string[] aliases) =>
        Repeatable(new Option<double>(Dashed(name), Dashed(aliases))
        {
            Description = description,
            HelpName = "X",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseDouble(r, r.Tokens[^1].Value),
        });

    /// <summary>One or more text values; null when absent and there is no default.</summary>
    public static Option<string[]?> Texts(string name, string description, string[]? defaultValue = null, params string[] aliases)
    {
        var o = new Option<string[]?>(Dashed(name), Dashed(aliases))
        {
            Description = description,
            HelpName = "TEXT...",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
            CustomParser = r => Values(r).ToArray(),
        };
        if (defaultValue is not null) o.DefaultValueFactory = _ => [.. defaultValue];
        return o;
    }

    /// <summary>One or more integers (<c>--dim 32 64</c> or <c>--dim 32,64</c>).</summary>
    public static Option<int[]> Ints(string name, string description, int[] defaultValue, params string[] aliases) =>
        new(Dashed(name), Dashed(aliases))
        {
            Description = description,
            HelpName = "N...",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [.. defaultValue],
            CustomParser = r => Values(r).Select(v => ParseInt(r, v)).ToArray(),
        };

    /// <summary>A 3D size (D H W): three integers, or one for a cube (<c>--dim 32</c> = 32 32 32); null when absent and there is no default.</summary>
    public static Option<int[]?> Size(string name, string description, int[]? defaultValue, params string[] aliases)
    {
        var o = new Option<int[]?>(Dashed(name), Dashed(aliases))
        {
            Description = description,
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
            CustomParser = ParseSize,
            HelpName = "D H W",
        };
        if (defaultValue is not null) o.DefaultValueFactory = _ => [.. defaultValue];
        return o;
    }

    /// <summary>
    /// A one-value option that may be repeated, the last value winning (as argparse does, so a script
    /// can append an override); one value per occurrence, so a stray word after it is not taken.
    /// </summary>
    internal static Option<T> Repeatable<T>(Option<T> option, ArgumentArity? arity = null)
    {
        option.Arity = arity ?? ArgumentArity.OneOrMore;
        option.AllowMultipleArgumentsPerToken = false;
        return option;
    }

    /// <summary>A switch's value: present alone = true; True/False (any case) as MedicalZoo scripts write it; the last one wins.</summary>
    internal static bool ParseFlag(ArgumentResult r)
    {
        if (r.Tokens.Count == 0) return true;
        if (bool.TryParse(r.Tokens[^1].Value, out var b)) return b;
        var name = OptionName(r);
        r.AddError($"option {name} is a switch: use {name} or {name} True|False, not '{r.Tokens[^1].Value}'");
        return false;
    }

    /// <summary>Parses a size: 1 value (a cube) or 3, anything else is an error naming the option.</summary>
    internal static int[]? ParseSize(ArgumentResult r)
    {
        var v = Values(r).Select(s => ParseInt(r, s)).ToArray();
        if (v.Length is 1) return [v[0], v[0], v[0]];
        if (v.Length is not 3) r.AddError($"option {OptionName(r)} takes 1 or 3 values (D H W), got {v.Length}");
        return v;
    }

    /// <summary>The values of a list option: every token, split at commas.</summary>
    internal static IEnumerable<string> Values(ArgumentResult r) =>
        r.Tokens.SelectMany(t => t.Value.Split(ListSeparators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    internal static int ParseInt(ArgumentResult r, string s)
    {
        if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) return v;
        r.AddError($"option {OptionName(r)}: '{s}' is not an integer");
        return 0;
    }

    internal static long ParseLong(ArgumentResult r, string s)
    {
        if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) return v;
        r.AddError($"option {OptionName(r)}: '{s}' is not an integer");
        return 0;
    }

    internal static double ParseDouble(ArgumentResult r, string s)
    {
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        r.AddError($"option {OptionName(r)}: '{s}' is not a number");
        return 0;
    }

    /// <summary>The option as the user typed it (an alias when they used one).</summary>
    internal static string OptionName(ArgumentResult r) =>
        r.Parent is OptionResult o ? o.IdentifierToken?.Value ?? o.Option.Name : r.Argument.Name;

    private static string Dashed(string name) => name.StartsWith('-') ? name : "--" + name;

    private static string[] Dashed(string[] names) => [.. names.Select(Dashed)];
}
