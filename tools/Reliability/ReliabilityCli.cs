using System.Globalization;
using MedZoo.Reliability.Fuzzing;

namespace MedZoo.Reliability;

/// <summary>
/// Verbs of the harness: <c>fuzz</c>, <c>bomb</c>, <c>killtrials</c>, <c>attack</c>, <c>load</c>. Each prints a
/// markdown section (appended to <c>--report FILE</c> when given) and exits 1 when its figure fails its bound.
/// </summary>
public static class ReliabilityCli
{
    public const string Usage = """
        medzoo-reliability VERB [options] [--report FILE] [--work DIR]
          fuzz --kind nifti|analyze|metaimage|gzip|journal|checkpoint|datasetjson|upload|all [--count 10000] [--seed 1] [--timeout_s 10]
          bomb [--mib 1024] [--no_plain_read]
          killtrials --server N --cli M --medzoo PATH/medzoo.dll
          attack --clients 200 --seconds 60 --medzoo PATH/medzoo.dll
          load --clients 50 --browsers 5 --epochs 6 --medzoo PATH/medzoo.dll
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var options = Parse(args[1..]);
        var work = options.GetValueOrDefault("work") ?? Path.Combine(Path.GetTempPath(), $"medzoo-reliability-{Environment.ProcessId}");
        var command = "medzoo-reliability " + string.Join(' ', args);
        try
        {
            var (markdown, ok) = args[0] switch
            {
                "fuzz" => Fuzz(options, work, command),
                "bomb" => Bomb(options, work, command),
                "killtrials" => KillTrials(options, work, command),
                "attack" => AttackVerb(options, work, command),
                "load" => LoadVerb(options, work, command),
                _ => throw new ArgumentException($"unknown verb '{args[0]}'\n{Usage}"),
            };
            Console.WriteLine(markdown);
            if (options.GetValueOrDefault("report") is { } report) File.AppendAllText(report, markdown + "\n");
            return ok ? 0 : 1;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        finally
        {
            if (!options.ContainsKey("work") && Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    private static Dictionary<string, string?> Parse(string[] args)
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{args[i]}'\n{Usage}");
            var name = args[i][2..];
            var value = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            result[name] = value;
        }
        return result;
    }

    private static int Int(Dictionary<string, string?> o, string name, int fallback) =>
        o.TryGetValue(name, out var v) && v is not null
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"--{name} must be a whole number, got '{v}'")
            : fallback;

    private static (string, bool) Fuzz(Dictionary<string, string?> o, string work, string command)
    {
        var kind = o.GetValueOrDefault("kind") ?? throw new ArgumentException($"fuzz needs --kind\n{Usage}");
        var kinds = kind == "all" ? FuzzTarget.Kinds : [kind];
        var options = new FuzzOptions
        {
            Count = Int(o, "count", 10_000), Seed = Int(o, "seed", 1), Timeout = TimeSpan.FromSeconds(Int(o, "timeout_s", 10)),
            SaveFailuresTo = Path.Combine(o.GetValueOrDefault("save") ?? work, "failures"),
        };
        var reports = new List<FuzzReport>();
        foreach (var k in kinds)
        {
            using var target = FuzzTarget.Create(k, Path.Combine(work, k));
            reports.Add(FuzzRunner.Run(target, options, Console.Error.WriteLine));
            Console.Error.WriteLine($"{k}: done");
        }
        var ok = reports.All(r => r.Of(FuzzOutcome.Crashed) == 0 && r.Of(FuzzOutcome.Hung) == 0 && r.OverMemoryBound == 0);
        return (Markdown.Fuzz(reports, command, options), ok);
    }

    private static string Medzoo(Dictionary<string, string?> o) =>
        Path.GetFullPath(o.GetValueOrDefault("medzoo") ?? Path.Combine(AppContext.BaseDirectory, "medzoo.dll"));

    private static (string, bool) KillTrials(Dictionary<string, string?> o, string work, string command)
    {
        var medzoo = Medzoo(o);
        var seed = Int(o, "seed", 1);
        var trials = new List<Server.KillTrial>();
        var server = Int(o, "server", 20);
        var cli = Int(o, "cli", 10);
        if (server > 0) trials.AddRange(Server.KillTrials.ServerAsync(medzoo, work, server, seed, Console.Error.WriteLine).GetAwaiter().GetResult());
        if (cli > 0) trials.AddRange(Server.KillTrials.CliAsync(medzoo, work, cli, seed, Console.Error.WriteLine).GetAwaiter().GetResult());
        return (Markdown.KillTrials(trials, command), trials.All(t => t.Problems.Count == 0));
    }

    private static (string, bool) AttackVerb(Dictionary<string, string?> o, string work, string command)
    {
        var result = Server.Attack.RunAsync(Medzoo(o), work, Int(o, "clients", 200), TimeSpan.FromSeconds(Int(o, "seconds", 60)), Console.Error.WriteLine).GetAwaiter().GetResult();
        var limited = result.AttackAnswers.Keys.Any(k => k.StartsWith("429", StringComparison.Ordinal));
        return (Markdown.Attack(result, command), limited && Server.AttackResult.Percentile(result.UserLatenciesMs, 0.99) < 500 && result.UserErrors == 0);
    }

    private static (string, bool) LoadVerb(Dictionary<string, string?> o, string work, string command)
    {
        var r = Server.Load.RunAsync(Medzoo(o), work, Int(o, "clients", 50), Int(o, "browsers", 5), Int(o, "epochs", 6), Console.Error.WriteLine, Int(o, "steps_per_epoch", 4), o.ContainsKey("pin")).GetAwaiter().GetResult();
        var ok = r.WatchedStepSeconds <= 1.05 * r.UnwatchedStepSeconds && r.EpochEventsPerClient.All(n => n == r.Epochs)
                 && r.Browsers.All(b => b.SawFinalEpoch) && r.RssFlat();
        return (Markdown.Load(r, command), ok);
    }

    private static (string, bool) Bomb(Dictionary<string, string?> o, string work, string command)
    {
        var results = DecompressionBomb.Run(Path.Combine(work, "bomb"), Int(o, "mib", 1024), !o.ContainsKey("no_plain_read"));
        var ok = results.Where(r => r.Reader.StartsWith("upload", StringComparison.Ordinal)).All(r => r.Outcome.StartsWith("refused", StringComparison.Ordinal) && r.Elapsed < TimeSpan.FromSeconds(5));
        return (Markdown.Bomb(results, command), ok);
    }
}
