using System.Globalization;

namespace MedZoo.Web.Cli;

/// <summary>
/// Parsed arguments of one verb. Accepts `--name value`, `--name=value`, multi-value options
/// (`--dim 64 64 64`) and positionals; every option must be declared by the verb, so a typo is an
/// error that names the option instead of being silently ignored.
/// </summary>
public sealed class CliArguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    private CliArguments(IReadOnlyList<string> positionals) => Positionals = positionals;

    /// <summary>Arguments that are not options, in order.</summary>
    public IReadOnlyList<string> Positionals { get; }

    /// <summary>Parses <paramref name="args"/> (without the verb) against the declared options.</summary>
    public static CliArguments Parse(IReadOnlyList<string> args, IReadOnlyList<CliOption> options)
    {
        var byName = new Dictionary<string, CliOption>(StringComparer.Ordinal);
        foreach (var o in options)
        {
            byName[o.Name] = o;
            foreach (var a in o.Aliases) byName[a] = o;
        }
        var positionals = new List<string>();
        var result = new CliArguments(positionals);
        for (var i = 0; i < args.Count; i++)
        {
            var token = args[i];
            if (!IsOptionToken(token))
            {
                positionals.Add(token);
                continue;
            }
            var body = token.TrimStart('-');
            string? inline = null;
            var eq = body.IndexOf('=');
            if (eq >= 0)
            {
                inline = body[(eq + 1)..];
                body = body[..eq];
            }
            if (!byName.TryGetValue(body, out var opt))
                throw new CliUsageException($"unknown option '{token}'{Suggest(body, byName.Keys)}");
            var list = result._values.TryGetValue(opt.Name, out var existing) ? existing : result._values[opt.Name] = [];
            switch (opt.Arity)
            {
                case CliArity.Flag:
                    if (inline is not null)
                    {
                        if (!bool.TryParse(inline, out var b))
                            throw new CliUsageException($"option --{opt.Name} is a switch: use --{opt.Name} or --{opt.Name}=true|false");
                        list.Clear();
                        list.Add(b ? "true" : "false");
                    }
                    else if (i + 1 < args.Count && bool.TryParse(args[i + 1], out var bv))
                    {
                        // MedicalZoo scripts pass booleans as values (`--augmentation True`).
                        list.Clear();
                        list.Add(bv ? "true" : "false");
                        i++;
                    }
                    else
                    {
                        list.Clear();
                        list.Add("true");
                    }
                    break;
                case CliArity.Single:
                    if (inline is null)
                    {
                        if (i + 1 >= args.Count || IsOptionToken(args[i + 1]))
                            throw new CliUsageException($"option --{opt.Name} needs a value");
                        inline = args[++i];
                    }
                    list.Clear();
                    list.Add(inline);
                    break;
                case CliArity.Multi:
                    if (inline is not null) list.AddRange(inline.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    while (i + 1 < args.Count && !IsOptionToken(args[i + 1])) list.Add(args[++i]);
                    if (list.Count == 0) throw new CliUsageException($"option --{opt.Name} needs at least one value");
                    break;
            }
        }
        return result;
    }

    // "-5" and "-0.5" are values (negative numbers), not options.
    private static bool IsOptionToken(string s) =>
        s.Length > 1 && s[0] == '-' && !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static string Suggest(string name, IEnumerable<string> known)
    {
        var best = known.Select(k => (k, d: Distance(k.ToLowerInvariant(), name.ToLowerInvariant())))
                        .OrderBy(t => t.d).FirstOrDefault();
        return best.k is not null && best.d <= Math.Max(2, name.Length / 3) ? $" (did you mean --{best.k}?)" : "";
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }

    /// <summary>True if the option was given.</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>A switch's value: false when absent.</summary>
    public bool Flag(string name) => _values.TryGetValue(name, out var v) && v.Count > 0 && v[^1] == "true";

    /// <summary>The option's value, or <paramref name="fallback"/> when absent.</summary>
    public string? String(string name, string? fallback = null) =>
        _values.TryGetValue(name, out var v) && v.Count > 0 ? v[^1] : fallback;

    /// <summary>The option's value, or a usage error naming it when absent.</summary>
    public string Required(string name) => String(name) ?? throw new CliUsageException($"option --{name} is required");

    /// <summary>All values of a multi-value option (empty when absent).</summary>
    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var v) ? v : [];

    public int Int(string name, int fallback) => Has(name) ? ParseInt(name, String(name)!) : fallback;

    public double Double(string name, double fallback) => Has(name) ? ParseDouble(name, String(name)!) : fallback;

    public int[] Ints(string name, int[] fallback) => Has(name) ? All(name).Select(s => ParseInt(name, s)).ToArray() : fallback;

    private static int ParseInt(string name, string s) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new CliUsageException($"option --{name}: '{s}' is not an integer");

    private static double ParseDouble(string name, string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new CliUsageException($"option --{name}: '{s}' is not a number");
}
