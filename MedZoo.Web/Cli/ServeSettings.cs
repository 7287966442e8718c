using System.CommandLine;
using System.Globalization;
using System.Reflection;
using MedZoo.Web.Cli.Options;
using MedZoo.Web.Hosting;

namespace MedZoo.Web.Cli;

/// <summary>
/// The dashboard's settings as <c>medzoo serve --help</c> lists them: <c>--urls</c> and <c>--AllowedHosts</c>, then
/// every property of every options class the server binds from configuration (a class with a <c>Section</c>
/// constant), written as the key ASP.NET Core's command-line configuration takes (<c>--MedZoo:Data:MemoryBudgetBytes</c>),
/// with its documentation and the default of a fresh instance. Found by reflection, so a new setting is listed
/// without anyone remembering to.
/// </summary>
public static class ServeSettings
{
    /// <summary>
    /// One setting: its configuration key, the name shown for its value (<c>N</c>, <c>DIR</c>), its documentation, its
    /// default (null: none) and the options class that binds it (null for the host's own, <c>urls</c> and <c>AllowedHosts</c>).
    /// </summary>
    public sealed record Setting(string Key, string HelpName, string Description, string? Default, Type? Options = null);

    /// <summary>The serve command's summary, in <c>medzoo --help</c>'s list and atop its own help.</summary>
    public const string Description = "start the dashboard (the default with no verb); 'medzoo serve --help' lists its settings";

    /// <summary>What <c>serve --help</c> says below the settings: the other ways to give them.</summary>
    public const string Footer =
        "Each setting is read from the command line (--Key value or --Key=value), from an environment variable (the key with __ for each ':', "
        + "e.g. MedZoo__DataDirectory=/data or MedZoo__Data__Roots__mri=/mnt/mri), or from appsettings.json beside the executable; "
        + "the command line wins, then the environment. README.md's Dashboard and Cluster mode sections explain them.";

    /// <summary>
    /// The options classes the server binds from configuration, by section: public, with a parameterless constructor
    /// and a <c>Section</c> constant.
    /// </summary>
    public static IReadOnlyDictionary<Type, string> OptionsTypes { get; } =
        typeof(ServeSettings).Assembly.GetExportedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (Type: t, Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
            .Where(x => x.Field is { IsLiteral: true } && x.Field.FieldType == typeof(string))
            .ToDictionary(x => x.Type, x => (string)x.Field!.GetRawConstantValue()!);

    /// <summary>The settings, in the order the help lists them (server address first, then by section).</summary>
    public static IReadOnlyList<Setting> All { get; } = Create();

    /// <summary>The help's options: one per setting, for display only (the server reads its configuration itself).</summary>
    public static IEnumerable<Option> HelpOptions() => All.Select(s =>
    {
        var option = new Option<string>("--" + s.Key) { Description = s.Description, HelpName = s.HelpName };
        if (s.Default is { } d) option.DefaultValueFactory = _ => d;
        return (Option)option;
    });

    private static List<Setting> Create()
    {
        var settings = new List<Setting>
        {
            new("urls", "URL", "Addresses to listen on, ;-separated (http://0.0.0.0:8080 serves every interface; also ASPNETCORE_URLS).", WebHostingExtensions.DefaultUrl),
            new("AllowedHosts", "HOSTS", "Host names the dashboard answers besides localhost, 127.0.0.1 and [::1], ;-separated (* allows any).", null),
        };
        foreach (var (type, section) in OptionsTypes.OrderBy(t => t.Value, StringComparer.Ordinal))
        {
            var fresh = Activator.CreateInstance(type);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.GetSetMethod() is null || property.GetGetMethod() is null || property.GetIndexParameters().Length > 0) continue;
                var (suffix, helpName) = ValueName(property.PropertyType);
                if (helpName is null) continue;
                if (helpName == "TEXT" && property.Name.EndsWith("Directory", StringComparison.Ordinal)) helpName = "DIR";
                var description = XmlDocumentation.Summary(property, Reference) ?? "";
                var value = suffix.Length > 0 ? null : Format(property.GetValue(fresh)); // a map's entries have no default
                settings.Add(new Setting($"{section}:{property.Name}{suffix}", helpName, description, value, type));
            }
        }
        return settings;
    }

    // A doc's reference to a property of a settings class is written as that setting's option (FreeFailures →
    // --MedZoo:Accounts:FreeFailures); anything else as XmlDocumentation writes it.
    private static string? Reference(string cref)
    {
        if (!cref.StartsWith("P:", StringComparison.Ordinal) || cref.LastIndexOf('.') is var dot && dot < 3) return null;
        var typeName = cref[2..dot];
        return OptionsTypes.FirstOrDefault(t => t.Key.FullName == typeName) is { Key: not null } match
            ? $"--{match.Value}:{cref[(dot + 1)..]}"
            : null;
    }

    // The key's suffix (a map's entries are keys of their own) and the name shown for the value, by type; no name when
    // configuration cannot bind the type from text.
    private static (string Suffix, string? HelpName) ValueName(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(bool) => ("", "true|false"),
        var t when t == typeof(int) || t == typeof(long) => ("", "N"),
        var t when t == typeof(double) || t == typeof(float) => ("", "X"),
        var t when t == typeof(TimeSpan) => ("", "HH:MM:SS"),
        var t when t == typeof(string) => ("", "TEXT"),
        var t when t == typeof(Dictionary<string, string>) => (":NAME", "VALUE"),
        _ => ("", null),
    };

    private static string? Format(object? value) => value switch
    {
        null or "" => null,
        bool b => b ? "true" : "false",
        // As the binder reads it, without a fraction's trailing zeros (00:00:00.1, not 00:00:00.1000000).
        TimeSpan t when t >= TimeSpan.Zero && t < TimeSpan.FromDays(1) => t.ToString(@"hh\:mm\:ss\.FFFFFFF", CultureInfo.InvariantCulture).TrimEnd('.'),
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
