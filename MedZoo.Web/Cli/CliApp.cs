using MedZoo.Engine.Devices;
using MedZoo.Web.Cli.Verbs;

namespace MedZoo.Web.Cli;

/// <summary>
/// Dispatches `medzoo VERB ...` to a verb. Bad input prints a message and the verb's usage
/// (exit 2); a failure prints one line naming the problem (exit 1); set MEDZOO_DEBUG=1 to see the
/// stack trace. No verb (or `serve`) starts the dashboard instead (see Program.cs).
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
    ];

    /// <summary>True if <paramref name="args"/> ask for a CLI verb or help rather than the dashboard.</summary>
    public static bool IsCliInvocation(string[] args) =>
        args.Length > 0 && (args[0] is "help" or "--help" or "-h" || Verbs.Any(v => v.Name == args[0]));

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
            e.WriteLine($"medzoo: unknown verb '{args[0]}'");
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
