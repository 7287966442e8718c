using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using MedZoo.Engine.Devices;
using MedZoo.Web.Cli.Verbs;
using Spectre.Console;

namespace MedZoo.Web.Cli;

/// <summary>
/// The medzoo command line on System.CommandLine: each verb is a command built from its
/// <see cref="ICliVerb.Symbols"/>, so parsing, <c>--help</c>, tab completion (the <c>[suggest]</c>
/// directive) and suggestions for misspelt verbs and options come from one declaration. Bad input
/// prints the problem and the verb's usage line (exit 2); a failure prints one line naming the
/// problem (exit 1); set MEDZOO_DEBUG=1 to see the stack trace. No arguments, <c>serve</c>, or only
/// server options (<c>--urls URL</c>) start the dashboard instead (see Program.cs); any other first
/// word is a verb, and an unknown one is an error naming the closest verb.
/// </summary>
public static partial class CliApp
{
    /// <summary>
    /// The verb table: every verb, in the order the help lists them. New instances on every call,
    /// because a verb's options are its own System.CommandLine symbols (see <see cref="ICliVerb"/>).
    /// </summary>
    private static ICliVerb[] CreateVerbs() =>
    [
        new InspectVerb(),
        new DatasetVerb(),
        new TrainVerb(),
        new InferVerb(),
        new ModelsVerb(),
        new BenchVerb(),
        new ExportVerb(),
        new ImportVerb(),
        new WorkerVerb(),
    ];

    /// <summary>Every verb, in the order the help lists them (for names and summaries; <see cref="Run"/> builds its own).</summary>
    public static IReadOnlyList<ICliVerb> Verbs { get; } = CreateVerbs();

    /// <summary>
    /// True if <paramref name="args"/> ask for a CLI verb or help (known or not) rather than the
    /// dashboard. Only no arguments, <c>serve</c>, or arguments that are all server options
    /// (<c>--urls URL</c>, <c>--key=value</c>, <c>key=value</c>) start the dashboard: a misspelt verb
    /// must say so, not serve the dashboard with the default data folder.
    /// </summary>
    public static bool IsCliInvocation(string[] args) => !StartsServer(args);

    /// <summary>
    /// True when <paramref name="args"/> are empty, start with <c>serve</c>, or are server options only, and ask for
    /// no help: <c>medzoo serve --help</c> lists the dashboard's settings instead of starting it.
    /// </summary>
    public static bool StartsServer(string[] args) =>
        args.Length == 0
        || (!args.Any(IsHelp) && (args[0] == "serve" || (args[0] != "--version" && FirstWord(args) < 0)));

    private static bool IsHelp(string arg) => arg is "--help" or "-h" or "-?";

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
        ArgumentNullException.ThrowIfNull(word);
        var names = Verbs.Select(v => v.Name).Prepend("serve").Append("help");
        var (name, distance) = names.Select(n => (n, Distance(word.ToLowerInvariant(), n))).MinBy(x => x.Item2);
        return distance <= Math.Max(2, word.Length / 3) && distance < word.Length ? name : null;
    }

    /// <summary>The option of <paramref name="command"/> closest to a misspelt one (<c>--dimm</c> → <c>--dim</c>), or null.</summary>
    public static string? ClosestOption(Command command, string token)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(token);
        var typed = token.Split('=', ':')[0].TrimStart('-').ToLowerInvariant();
        var best = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
            .Where(n => n.StartsWith("--", StringComparison.Ordinal))
            .Select(n => (n, d: Distance(typed, n[2..].ToLowerInvariant())))
            .OrderBy(t => t.d).FirstOrDefault();
        return best.n is not null && best.d <= Math.Max(2, typed.Length / 3) ? best.n : null;
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

    /// <summary>
    /// The command tree: a root command with one command per verb and <c>serve</c> (listed for the help
    /// and completion; Program.cs starts the dashboard before the command line is parsed).
    /// </summary>
    /// <param name="verbs">The verbs, in the order the help lists them.</param>
    /// <param name="run">Runs a verb with its parsed command line; returns the exit code.</param>
    /// <param name="serveSettings">
    /// Whether serve lists the dashboard's settings; reading them (reflection and medzoo.xml) costs every invocation
    /// about 50 ms, so <see cref="Run"/> asks for them only when the command line names serve.
    /// </param>
    public static RootCommand CreateRootCommand(IReadOnlyList<ICliVerb> verbs, Func<ICliVerb, ParseResult, int> run, bool serveSettings = true)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        ArgumentNullException.ThrowIfNull(run);
        var root = new RootCommand("MedZoo: 3D medical image segmentation. With no verb, or 'serve', the dashboard starts; server options such as --urls URL go to it.");
        // serve's options are for its help: Program.cs starts the dashboard, which reads them as configuration.
        var serve = new Command("serve", ServeSettings.Description) { TreatUnmatchedTokensAsErrors = false };
        if (serveSettings) foreach (var option in ServeSettings.HelpOptions()) serve.Options.Add(option);
        serve.SetAction(_ => 0);
        root.Subcommands.Add(serve);
        foreach (var verb in verbs)
        {
            var command = new Command(verb.Name, verb.Summary);
            foreach (var symbol in verb.Symbols)
            {
                switch (symbol)
                {
                    case Option o: command.Options.Add(o); break;
                    case Argument a: command.Arguments.Add(a); break;
                    default: throw new InvalidOperationException($"verb {verb.Name}: {symbol.GetType().Name} '{symbol.Name}' is neither an option nor an argument");
                }
            }
            command.SetAction(parse => run(verb, parse));
            root.Subcommands.Add(command);
        }
        foreach (var help in root.Options.OfType<HelpOption>())
            help.Action = new ReadableHelpAction(help.Action);
        return root;
    }

    /// <summary>Runs the verb named by args[0]; returns the exit code.</summary>
    /// <param name="args">The command line without the executable.</param>
    /// <param name="stdout">Results; default the console.</param>
    /// <param name="stderr">Progress, notices and errors; default the console.</param>
    /// <param name="cancellation">Ctrl+C.</param>
    /// <param name="terminal">Where progress bars are drawn; default: the console's stderr when it is a terminal and <paramref name="stderr"/> is not given.</param>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null, CancellationToken cancellation = default, IAnsiConsole? terminal = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var o = stdout ?? Console.Out;
        var e = stderr ?? Console.Error;
        terminal ??= stderr is null && !Console.IsErrorRedirected
            ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) })
            : null;
        if (args.Length == 0)
        {
            WriteOverview(o);
            return 0;
        }
        // 'medzoo help VERB' is 'medzoo VERB --help'; help asked among server options ('medzoo --urls URL --help') is serve's.
        if (args[0] == "help") args = args.Length > 1 ? [args[1], "--help"] : ["--help"];
        else if (!IsHelp(args[0]) && args.Any(IsHelp) && FirstWord([.. args.Where(a => !IsHelp(a))]) < 0) args = ["serve", "--help"];

        var context = new CliContext(o, e, cancellation, terminal);
        var root = CreateRootCommand(CreateVerbs(), (verb, parse) => RunVerb(verb, parse, context), serveSettings: args.Contains("serve"));
        var result = root.Parse(args);
        if (result.Errors.Count > 0 && result.Action is ParseErrorAction)
            return result.CommandResult.Command is RootCommand ? UnknownVerb(args, e) : UsageError(result, e);
        try
        {
            return result.Invoke(new InvocationConfiguration { Output = o, Error = e, EnableDefaultExceptionHandler = false });
        }
        catch (CliUsageException ex)
        {
            e.WriteLine($"medzoo {result.CommandResult.Command.Name}: {ex.Message}");
            WriteUsageLine(e, result.CommandResult.Command);
            return 2;
        }
        catch (OperationCanceledException)
        {
            e.WriteLine($"medzoo {result.CommandResult.Command.Name}: cancelled");
            return 130;
        }
        catch (Exception ex)
        {
            e.WriteLine($"medzoo {result.CommandResult.Command.Name}: error: {Describe(ex)}");
            if (Environment.GetEnvironmentVariable("MEDZOO_DEBUG") == "1") e.WriteLine(ex);
            return 1;
        }
    }

    private static int RunVerb(ICliVerb verb, ParseResult parse, CliContext context)
    {
        // A word like "--jsn" where a verb takes a FILE is a misspelt option, not a file name.
        var stray = parse.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens)
            .FirstOrDefault(t => t.Value.Length > 1 && t.Value[0] == '-' && !double.TryParse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        if (stray is not null) throw new CliUsageException(UnknownOption(parse.CommandResult.Command, stray.Value));
        if (verb.NeedsTorch && TorchRuntime.TryLoad() is { } why)
        {
            context.Error.WriteLine(why);
            return 3;
        }
        return verb.Run(parse, context);
    }

    private static int UnknownVerb(string[] args, TextWriter e)
    {
        // After server options (`--urls URL frobnicate`) the word that is not an option is the unknown verb.
        var word = args[0].StartsWith('-') && FirstWord(args) is >= 0 and var at ? args[at] : args[0];
        var suggestion = ClosestVerb(word) is { } close ? $"; did you mean '{close}'?" : "";
        e.WriteLine($"medzoo: unknown verb '{word}'{suggestion} (the dashboard starts with no verb or with 'serve')");
        WriteOverview(e);
        return 2;
    }

    private static int UsageError(ParseResult result, TextWriter e)
    {
        var command = result.CommandResult.Command;
        var unmatched = result.UnmatchedTokens;
        var messages = unmatched.Select(t => t.StartsWith('-') ? UnknownOption(command, t) : $"unexpected argument '{t}'")
            .Concat(result.Errors.Select(x => x.Message).Where(m => !unmatched.Any(t => m.Contains($"'{t}'", StringComparison.Ordinal))))
            .Distinct().ToList();
        e.WriteLine($"medzoo {command.Name}: {string.Join("; ", messages)}");
        WriteUsageLine(e, command);
        return 2;
    }

    private static string UnknownOption(Command command, string token) =>
        $"unknown option '{token}'" + (ClosestOption(command, token) is { } close ? $" (did you mean {close}?)" : "");

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
        w.WriteLine("'medzoo VERB --help' (or 'medzoo help VERB') shows a verb's options.");
    }

    /// <summary>One line: the verb's synopsis and where its options are listed.</summary>
    public static void WriteUsageLine(TextWriter w, Command command)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(command);
        var positionals = string.Concat(command.Arguments.Select(a => " " + (a.HelpName ?? a.Name.ToUpperInvariant())));
        w.WriteLine($"usage: medzoo {command.Name}{positionals} [options]   ('medzoo {command.Name} --help' lists them)");
    }

    /// <summary>
    /// System.CommandLine's generated help, with defaults written as they are typed: lists as
    /// <c>[default: 32 32 32]</c> rather than <c>32|32|32</c>, enum values as <c>[default: adam]</c> rather than
    /// <c>Adam</c> (<see cref="CliOptions.SetHelpDefault"/>).
    /// </summary>
    private sealed partial class ReadableHelpAction(CommandLineAction? inner) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var config = parseResult.InvocationConfiguration;
            var output = config.Output;
            using var buffer = new StringWriter(CultureInfo.InvariantCulture);
            config.Output = buffer;
            try
            {
                (inner as SynchronousCommandLineAction ?? new HelpAction()).Invoke(parseResult);
            }
            finally
            {
                config.Output = output;
            }
            var text = DefaultList().Replace(buffer.ToString(), m => m.Value.Replace('|', ' '));
            var command = parseResult.CommandResult.Command;
            output.Write(TypedDefaults(text, command));
            if (command.Name == "serve" && command.Parents.FirstOrDefault() is RootCommand) output.WriteLine(ServeSettings.Footer + Environment.NewLine);
            return 0;
        }

        // Each option row (from its "  --name" line to the next option's) gets its default as typed.
        private static string TypedDefaults(string help, Command command)
        {
            var shown = new Dictionary<string, (string Raw, string Typed)>(StringComparer.Ordinal);
            for (Command? c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
            {
                foreach (var option in c.Options)
                {
                    if (CliOptions.HelpDefault(option) is not { } typed) continue;
                    foreach (var name in option.Aliases.Append(option.Name)) shown.TryAdd(name, typed);
                }
            }
            if (shown.Count == 0) return help;
            var rows = OptionRow().Split(help);
            for (var i = 0; i < rows.Length; i++)
            {
                var first = OptionNames().Match(rows[i]);
                if (!first.Success) continue;
                foreach (var name in first.Value.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!shown.TryGetValue(name, out var d)) continue;
                    // A terminal's help may wrap between "[default:" and the value.
                    rows[i] = Regex.Replace(rows[i], @"\[default:(\s+)" + Regex.Escape(d.Raw) + @"\]", m => $"[default:{m.Groups[1].Value}{d.Typed}]");
                    break;
                }
            }
            return string.Concat(rows);
        }

        [GeneratedRegex(@"(?=^  -)", RegexOptions.Multiline)]
        private static partial Regex OptionRow();

        [GeneratedRegex(@"^  -[^<\n]*?(?= <| {2}|\n|$)")]
        private static partial Regex OptionNames();

        [GeneratedRegex(@"\[default: [^\]]*\]")]
        private static partial Regex DefaultList();
    }
}
