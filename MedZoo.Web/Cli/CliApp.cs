using MedZoo.Engine.Devices;
using MedZoo.Web.Cli.Verbs;

namespace MedZoo.Web.Cli;

/// <summary>
/// Dispatches `medzoo VERB ...` to a verb. Bad input prints a message and the verb's usage
/// (exit 2); a failure prints one line naming the problem (exit 1); set MEDZOO_DEBUG=1 to see the
/// stack trace. No arguments, `serve`, or only server options (`--urls URL`) start the dashboard
/// instead (see Program.cs); any other first word is a verb, and an unknown one is an error.
/// </summary>
public static class CliApp
{
    /// <summary>Every verb, in the order the help lists them.</summary>
    public static IReadOnlyList<ICliVerb> Verbs { get; } =
    [
        new Verbs.InspectVerb(),
        new Verbs.DatasetVerb(),
        new Verbs.TrainVerb(),
        new Verbs.InferVerb(),
        new Verbs.ModelsVerb(),
        new Verbs.BenchVerb(),
        new Verbs.ExportVerb(),
        new Verbs.ImportVerb(),
    ];

    /// <summary>
    /// True if <paramref name="args"/> ask for a CLI verb or help (known or not) rather than the
    /// dashboard. Only no arguments, <c>serve</c>, or arguments that are all server options
    /// (<c>--urls URL</c>, <c>--key=value</c>, <c>key=value</c>) start the dashboard: a misspelt verb
    /// must say so, not serve the dashboard with the default data folder.
    /// </summary>
    public static bool IsCliInvocation(string[] args) => !StartsServer(args);

    /// <summary>True when <paramref name="args"/> are empty, start with <c>serve</c>, or are server options only.</summary>
    public static bool StartsServer(string[] args) =>
        args.Length == 0 || args[0] == "serve" || (args[0] is not ("--help" or "-h") && FirstWord(args) < 0);

    // Index of the first argument that is neither a server option nor an option's value (a verb), or -1.
    private static int FirstWord(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a.Contains('=')) continue; // --key=value or key=value
            if (!a.StartsWith('-') && !a.StartsWith('/')) return i;
            i++; // --key value
        }
        return -1;
    }

    /// <summary>The verb closest to a misspelt one (at most a third of its letters, and at least two, differ), or null.</summary>
    public static string? ClosestVerb(string word)
    {
        var names = Verbs.Select(v => v.Name).Prepend("serve").Append("help");
        var (name, distance) = names.Select(n => (n, Distance(word.ToLowerInvariant(), n))).MinBy(x => x.Item2);
        return distance <= Math.Max(2, word.Length / 3) && distance < word.Length ? name : null;
    }

    // Levenshtein distance with adjacent transpositions counted as one edit ("trian" -> "train").
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    /// <summary>Runs the verb named by args[0]; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null, CancellationToken cancellation = default)
    {
        var o = stdout ?? Console.Out;
        var e = stderr ?? Console.Error;
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            if (args.Length > 1 && Verbs.FirstOrDefault(v => v.Name == args[1]) is { } helped)
                WriteUsage(o, helped);
            else
                WriteOverview(o);
            return 0;
        }
        var verb = Verbs.FirstOrDefault(v => v.Name == args[0]);
        if (verb is null)
        {
            // After server options (`--urls URL frobnicate`) the word that is not an option is the unknown verb.
            var word = args[0].StartsWith('-') && FirstWord(args) is >= 0 and var at ? args[at] : args[0];
            var suggestion = ClosestVerb(word) is { } close ? $"; did you mean '{close}'?" : "";
            e.WriteLine($"medzoo: unknown verb '{word}'{suggestion} (the dashboard starts with no verb or with 'serve')");
            WriteOverview(e);
            return 2;
        }
        var rest = args.Skip(1).ToArray();
        if (rest.Any(a => a is "--help" or "-h"))
        {
            WriteUsage(o, verb);
            return 0;
        }
        try
        {
            var parsed = CliArguments.Parse(rest, verb.Options);
            if (verb.NeedsTorch && TorchRuntime.TryLoad() is { } why)
            {
                e.WriteLine(why);
                return 3;
            }
            return verb.Run(parsed, new CliContext(o, e, cancellation));
        }
        catch (CliUsageException ex)
        {
            e.WriteLine($"medzoo {verb.Name}: {ex.Message}");
            WriteUsage(e, verb);
            return 2;
        }
        catch (OperationCanceledException)
        {
            e.WriteLine($"medzoo {verb.Name}: cancelled");
            return 130;
        }
        catch (Exception ex)
        {
            e.WriteLine($"medzoo {verb.Name}: error: {Describe(ex)}");
            if (Environment.GetEnvironmentVariable("MEDZOO_DEBUG") == "1") e.WriteLine(ex);
            return 1;
        }
    }

    private static string Describe(Exception ex)
    {
        // Argument/IO/format exceptions carry messages written for users; for anything else the type helps.
        var msg = ex.Message;
        return ex is ArgumentException or IOException or InvalidDataException or FormatException or InvalidOperationException
                     or UnauthorizedAccessException or NotSupportedException
            ? msg
            : $"{ex.GetType().Name}: {msg}";
    }

    private static void WriteOverview(TextWriter w)
    {
        w.WriteLine("usage: medzoo [VERB] [options]   (no verb: serve the dashboard)");
        w.WriteLine();
        w.WriteLine("verbs:");
        w.WriteLine($"  {"serve",-10} start the dashboard (default) [--urls URL]");
        foreach (var v in Verbs) w.WriteLine($"  {v.Name,-10} {v.Summary}");
        w.WriteLine();
        w.WriteLine("'medzoo help VERB' or 'medzoo VERB --help' shows a verb's options.");
    }

    /// <summary>Writes one verb's usage and options.</summary>
    public static void WriteUsage(TextWriter w, ICliVerb verb)
    {
        var pos = string.IsNullOrEmpty(verb.Positionals) ? "" : " " + verb.Positionals;
        w.WriteLine($"usage: medzoo {verb.Name}{pos} [options]");
        w.WriteLine($"  {verb.Summary}");
        if (verb.Options.Count == 0) return;
        w.WriteLine("options:");
        var width = verb.Options.Max(o => o.Syntax.Length) + 2;
        foreach (var o in verb.Options)
        {
            var def = o.Default is null ? "" : $" (default: {o.Default})";
            w.WriteLine($"  {o.Syntax.PadRight(width)}{o.Help}{def}");
        }
    }
}
