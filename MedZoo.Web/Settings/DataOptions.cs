namespace MedZoo.Web.Settings;

/// <summary>
/// Where the dashboard keeps its state (configuration section <c>MedZoo</c>). One folder holds the
/// LiteDB database, the run journals written by headless <c>train</c> runs, and uploads.
/// </summary>
public sealed class DataOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string Section = "MedZoo";

    /// <summary>Environment variable that overrides the default folder (the Docker image sets it to /data).</summary>
    public const string EnvironmentVariable = "MEDZOO_DATA";

    /// <summary>
    /// Data folder (<c>MedZoo:DataDirectory</c>). Default: <c>$MEDZOO_DATA</c>, else
    /// <c>$XDG_DATA_HOME/medzoo</c>, else <c>~/.local/share/medzoo</c>. Created on start.
    /// </summary>
    public string DataDirectory { get; set; } = DefaultDataDirectory();

    /// <summary>The LiteDB file inside <see cref="DataDirectory"/>.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "medzoo.db");

    /// <summary>Folder where headless runs append their journals for the server to import.</summary>
    public string JournalDirectory => Path.Combine(DataDirectory, "journal");

    /// <summary>
    /// Largest checkpoint a headless run's journal may have imported (<c>MedZoo:MaxImportedCheckpointBytes</c>,
    /// default 8 GiB); a larger file is refused and logged, so a journal cannot fill the disk.
    /// </summary>
    public long MaxImportedCheckpointBytes { get; set; } = 8L << 30;

    /// <summary>
    /// Longest journal line accepted (<c>MedZoo:MaxJournalLineBytes</c>, default 16 MiB; a slice preview line is
    /// well under 1 MiB); a longer line is skipped and logged without being read into memory.
    /// </summary>
    public int MaxJournalLineBytes { get; set; } = 16 << 20;

    /// <summary>Folder inside <see cref="JournalDirectory"/> where journals that cannot be imported are moved, each with a reason file.</summary>
    public string QuarantineDirectory => Path.Combine(JournalDirectory, "quarantine");

    /// <summary>The default folder when configuration names none (see <see cref="DataDirectory"/>).</summary>
    public static string DefaultDataDirectory()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env)
            return Path.GetFullPath(env);
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
            : xdg;
        return Path.Combine(root, "medzoo");
    }

    /// <summary>
    /// The data folder as the server finds it, for processes without a web host (the <c>train</c>
    /// verb records its runs there): <paramref name="explicitDirectory"/> when given, else
    /// <c>MedZoo:DataDirectory</c> from the executable's appsettings.json (and
    /// appsettings.{environment}.json) or the environment (<c>MedZoo__DataDirectory</c>), else
    /// <see cref="DefaultDataDirectory"/>.
    /// </summary>
    public static DataOptions Resolve(string? explicitDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
            return new DataOptions { DataDirectory = Path.GetFullPath(explicitDirectory) };
        var environment = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environments.Production;
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        var options = new DataOptions();
        configuration.GetSection(Section).Bind(options);
        options.Validate();
        return options;
    }

    /// <summary>Throws when the folder is unusable, naming the setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
            throw new InvalidOperationException($"{Section}:DataDirectory is empty: set it to a writable folder or unset it to use {DefaultDataDirectory()}");
        if (MaxImportedCheckpointBytes < 1)
            throw new InvalidOperationException($"{Section}:MaxImportedCheckpointBytes must be at least 1 byte, got {MaxImportedCheckpointBytes}");
        if (MaxJournalLineBytes < 1024)
            throw new InvalidOperationException($"{Section}:MaxJournalLineBytes must be at least 1024 bytes, got {MaxJournalLineBytes}");
    }
}
