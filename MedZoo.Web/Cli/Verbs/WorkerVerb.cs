using System.CommandLine;
using MedZoo.Web.Cluster;
using MedZoo.Web.Settings;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// <c>medzoo worker [--devices cpu|cuda:0,cuda:1] [--queues gpu,cpu] [--runs-per-device N] [--name NAME] [--postgres CS]</c>:
/// a cluster worker. It takes queued runs from the cluster's Hangfire queues (in PostgreSQL; <c>MedZoo:Cluster:Postgres</c>
/// or <c>$MEDZOO_POSTGRES</c>), trains them on its devices with the same trainer as the dashboard, and writes their
/// state, metrics, events and checkpoints to the shared database, until Ctrl+C or SIGTERM (its runs then go back to
/// the queue and resume elsewhere from their last checkpoint).
/// </summary>
public sealed class WorkerVerb : ICliVerb
{
    public string Name => "worker";

    public string Summary => "cluster worker: train queued runs from the shared database on this machine's devices";

    public bool NeedsTorch => true;

    private readonly Option<string[]?> _devices = CliOptions.Texts("devices", "devices to train on: cpu, cuda:0, cuda:1, … (comma-separated)", ["cpu"]);
    private readonly Option<string[]?> _queues = CliOptions.Texts("queues", "queues to take runs from: gpu, cpu (default: the kinds of --devices)");
    private readonly Option<int> _runsPerDevice = CliOptions.Int("runs-per-device", "runs trained at once on one device", new WorkerOptions().RunsPerDevice);
    private readonly Option<string?> _name = CliOptions.Text("name", "this worker's unique name on the Workers page (default: host-pid)", valueName: "NAME");
    private readonly Option<string?> _postgres = CliOptions.Text("postgres",
        $"PostgreSQL connection string of the cluster (default: {ClusterOptions.Section}:Postgres, else ${ClusterOptions.PostgresVariable})", valueName: "CS");

    public IEnumerable<Symbol> Symbols => [_devices, _queues, _runsPerDevice, _name, _postgres];

    public int Run(ParseResult args, CliContext context)
    {
        var devices = (args.GetValue(_devices) is { Length: > 0 } given ? given : ["cpu"]).Select(d => d.Trim().ToLowerInvariant()).Select(d => d == "cuda" ? "cuda:0" : d).ToList();
        var options = new WorkerOptions
        {
            Devices = devices,
            Queues = args.Given(_queues)
                ? [.. (args.GetValue(_queues) ?? []).Select(q => q.Trim().ToLowerInvariant()).Distinct()]
                : [.. ClusterQueues.All.Where(q => devices.Any(d => ClusterQueues.Of(d) == q))],
            RunsPerDevice = args.GetValue(_runsPerDevice),
        };
        if (args.GetValue(_name) is { } name) options.Name = name.Trim();
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        if (args.GetValue(_postgres) is { Length: > 0 } postgres) builder.Configuration[$"{ClusterOptions.Section}:{nameof(ClusterOptions.Postgres)}"] = postgres;
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        try
        {
            builder.AddMedZooWorker(options);
        }
        catch (Exception e) when (e is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            context.Error.WriteLine(e.Message);
            return 2;
        }
        using var host = builder.Build();
        context.Error.WriteLine($"MedZoo worker {options.Name}: devices {string.Join(",", options.Devices)}, queues {string.Join(",", options.Queues)}, " +
                                $"{options.RunsPerDevice} run(s) per device");
        host.RunAsync(context.Cancellation).GetAwaiter().GetResult();
        context.Error.WriteLine($"MedZoo worker {options.Name} stopped");
        return 0;
    }
}
