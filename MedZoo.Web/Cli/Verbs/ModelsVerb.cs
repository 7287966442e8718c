using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MedZoo.Engine.Networks;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo models [--inChannels N] [--classes K] [--json]</c>: lists the model zoo with each
/// network's parameter count for the given channels (computed by building it), input constraints
/// and paper. <c>--json</c> prints an array of objects with name, parameters, description, paper,
/// constraints and options, for scripts and the dashboard.
/// </summary>
public sealed class ModelsVerb : ICliVerb
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string Name => "models";

    public string Summary => "list the model zoo: parameters, input constraints, papers";

    public bool NeedsTorch => true;

    private readonly Option<int> _inChannels = CliOptions.Int("inChannels", "input channels (modalities) to count parameters for", 2);
    private readonly Option<int> _classes = CliOptions.Int("classes", "output classes (background included) to count parameters for", 4);
    private readonly Option<bool> _json = CliOptions.Flag("json", "print a JSON array instead of a table");

    public IEnumerable<Symbol> Symbols => [_inChannels, _classes, _json];

    public int Run(ParseResult args, CliContext context)
    {
        var inChannels = args.GetValue(_inChannels);
        var classes = args.GetValue(_classes);
        if (inChannels < 1) throw new CliUsageException($"option --inChannels must be >= 1, got {inChannels}");
        if (classes < 2) throw new CliUsageException($"option --classes must be >= 2 (background included), got {classes}");

        var rows = new List<ModelRow>();
        foreach (var model in ModelZoo.Models)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            rows.Add(ModelRow.Of(model, inChannels, classes, model.CountParameters(inChannels, classes)));
        }

        if (args.GetValue(_json))
            context.Out.WriteLine(JsonSerializer.Serialize(rows, Json));
        else
            WriteTable(context.Out, rows, inChannels, classes);
        return 0;
    }

    private static void WriteTable(TextWriter w, IReadOnlyList<ModelRow> rows, int inChannels, int classes)
    {
        w.WriteLine($"Model zoo: parameters for {inChannels} input channel(s) and {classes} classes");
        w.WriteLine();
        string[] header = ["MODEL", "PARAMETERS", "INPUT (D, H, W)", "AUXILIARY", "PAPER"];
        var cells = rows.Select(r => new[]
        {
            r.Name,
            r.Parameters.ToString("N0", CultureInfo.InvariantCulture),
            r.Constraints,
            r.Auxiliary,
            $"{FirstAuthor(r.Paper.Authors)} {r.Paper.Year}, {r.Paper.Url}",
        }).ToList();
        var widths = Enumerable.Range(0, header.Length)
            .Select(i => Math.Max(header[i].Length, cells.Max(c => c[i].Length))).ToArray();
        void Line(string[] c) =>
            w.WriteLine(string.Join("  ", c.Select((s, i) => i == 1 ? s.PadLeft(widths[i]) : s.PadRight(widths[i]))).TrimEnd());
        Line(header);
        foreach (var c in cells) Line(c);
        w.WriteLine();
        w.WriteLine("Names are case-insensitive. 'medzoo models --json' adds descriptions, options and what differs from MedicalZooPytorch.");
    }

    private static string FirstAuthor(string authors)
    {
        var first = authors.Split(',')[0].Trim();
        return authors.Contains(',', StringComparison.Ordinal) ? first + " et al." : first;
    }

    /// <summary>One model as the verb prints it.</summary>
    internal sealed record ModelRow(
        string Name,
        long Parameters,
        int InChannels,
        int Classes,
        string Description,
        PaperReference Paper,
        string Constraints,
        int Divisor,
        int MinSize,
        string Auxiliary,
        int? DefaultBaseFilters,
        IReadOnlyList<string> Options,
        string? DifferencesFromMedicalZoo)
    {
        public static ModelRow Of(ModelInfo m, int inChannels, int classes, long parameters) => new(
            m.Name, parameters, inChannels, classes, m.Description, m.Paper, m.ConstraintsText,
            m.Constraints.Divisor, m.Constraints.MinSize,
            m.Auxiliary switch
            {
                AuxiliaryOutputKind.DeepSupervision => "deep supervision",
                AuxiliaryOutputKind.Vae => "VAE reconstruction",
                _ => "none",
            },
            m.DefaultBaseFilters,
            Enum.GetValues<ModelOptionKinds>().Where(k => k != ModelOptionKinds.None && m.SupportedOptions.HasFlag(k))
                .Select(k => JsonNamingPolicy.CamelCase.ConvertName(k.ToString())).Append("inputSize").ToArray(),
            m.Differences.Length == 0 ? null : m.Differences);
    }
}
