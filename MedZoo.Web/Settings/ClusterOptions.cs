namespace MedZoo.Web.Settings;

/// <summary>
/// Cluster mode (configuration section <c>MedZoo:Cluster</c>): web nodes keep state in PostgreSQL, queue runs
/// through Hangfire, and train nothing themselves; <c>medzoo worker</c> processes take the runs from the queues.
/// Off by default: the quick start is the embedded mode (LiteDB, the trainer in the web process).
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string Section = "MedZoo:Cluster";

    /// <summary>Environment variable naming the PostgreSQL connection string when configuration does not (as <c>scripts/cluster-servers.sh</c> writes it).</summary>
    public const string PostgresVariable = "MEDZOO_POSTGRES";

    /// <summary>Environment variable naming the Redis endpoint when configuration does not.</summary>
    public const string RedisVariable = "MEDZOO_REDIS";

    /// <summary>Cluster mode on (<c>MedZoo:Cluster:Enabled</c>, default false).</summary>
    public bool Enabled { get; set; }

    /// <summary>Npgsql connection string of the shared database (<c>MedZoo:Cluster:Postgres</c>, else <c>$MEDZOO_POSTGRES</c>).</summary>
    public string? Postgres { get; set; }

    /// <summary>Redis endpoint of the live stream's backplane (<c>MedZoo:Cluster:Redis</c>, else <c>$MEDZOO_REDIS</c>).</summary>
    public string? Redis { get; set; }

    /// <summary>
    /// How long a queued run may sit without a job in the queue before a web node queues it again
    /// (<c>MedZoo:Cluster:QueueRepairAfter</c>, default 30 s): the node that queued it died between storing the run and
    /// queueing its job, and the run would otherwise never start.
    /// </summary>
    public TimeSpan QueueRepairAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>True when <paramref name="configuration"/> turns cluster mode on.</summary>
    public static bool IsEnabled(IConfiguration configuration) =>
        configuration.GetSection(Section).GetValue<bool>(nameof(Enabled));

    /// <summary>The options in <paramref name="configuration"/>, with the environment variables filling what it leaves empty.</summary>
    public static ClusterOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var o = configuration.GetSection(Section).Get<ClusterOptions>() ?? new ClusterOptions();
        if (string.IsNullOrWhiteSpace(o.Postgres)) o.Postgres = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrWhiteSpace(o.Redis)) o.Redis = Environment.GetEnvironmentVariable(RedisVariable);
        return o;
    }

    /// <summary>
    /// Throws when cluster mode lacks what it needs, naming the setting: an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>,
    /// as every other bad setting stops the server (these are read while services are registered, before the options system runs).
    /// </summary>
    public void Validate()
    {
        if (QueueRepairAfter < TimeSpan.FromSeconds(1) || QueueRepairAfter > TimeSpan.FromHours(1))
            throw new Microsoft.Extensions.Options.OptionsValidationException(Section, typeof(ClusterOptions), [
                $"{Section}:{nameof(QueueRepairAfter)} must be between 00:00:01 and 01:00:00, got {QueueRepairAfter}"]);
        if (string.IsNullOrWhiteSpace(Postgres))
            throw new Microsoft.Extensions.Options.OptionsValidationException(Section, typeof(ClusterOptions), [
                $"{Section}:{nameof(Postgres)} is not set: cluster mode needs a PostgreSQL connection string " +
                $"(set {Section}:{nameof(Postgres)} or the {PostgresVariable} environment variable, e.g. from scripts/cluster-servers.sh's servers.env)"]);
    }
}
