using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using MedZoo.Engine.Training;
using MedZoo.Web.Live;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Web.Runs;

/// <summary>The first line of a run journal: what the server needs to list the run.</summary>
public sealed record RunJournalHeader
{
    public required string RunId { get; init; }
    public required string Name { get; init; }
    public required string CreatedBy { get; init; }
    public required DateTime CreatedAt { get; init; }
    public required string ConfigJson { get; init; }
    public string Model { get; init; } = "";
    public string Dataset { get; init; } = "";
    public int Epochs { get; init; }
    public string Device { get; init; } = "auto";
    public int ProcessId { get; init; }
    public string Host { get; init; } = "";
    /// <summary>
    /// The run's output folder (absolute). The server imports a reported checkpoint only when it is this folder's
    /// <c>last.ckpt</c> or <c>best.ckpt</c>; a journal without it records no checkpoints.
    /// </summary>
    public string? OutputDirectory { get; init; }
}

/// <summary>
/// The file format through which a headless <c>medzoo train</c> records a run into the
/// dashboard's store without opening the database (LiteDB's direct mode must not be shared
/// between processes, and its shared mode reopens the file on every write): one JSON object per
/// line, a header first, then every event with its sequence number. Appending a line is atomic
/// enough for our purpose: the reader only takes complete lines, so a killed writer loses at
/// most the line in flight. The server imports journals while they grow (so the run appears
/// live) and on start (so runs made while it was down appear too).
/// </summary>
public static class RunJournal
{
    /// <summary>File extension of journals.</summary>
    public const string Extension = ".jsonl";

    /// <summary>Serializer settings of journal lines.</summary>
    public static JsonSerializerOptions Json { get; } = CreateJson();

    private static readonly Dictionary<string, Type> EventTypes = new[]
    {
        typeof(RunStarted), typeof(StepCompleted), typeof(EpochCompleted), typeof(SlicePreview), typeof(CheckpointSaved),
        typeof(RunStateChanged), typeof(RunLog), typeof(RunFinished),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    private static JsonSerializerOptions CreateJson()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        LiveJson.Configure(o);
        return o;
    }

    /// <summary>
    /// A new journal path for a session of a run: the run id plus the writer's process id and start
    /// time, so a resumed run's journal never collides with one not yet imported.
    /// </summary>
    public static string PathFor(string journalDirectory, string runId) =>
        Path.Combine(journalDirectory, $"{runId}.{Environment.ProcessId}.{DateTime.UtcNow:yyyyMMddHHmmssfff}{Extension}");

    /// <summary>The header line.</summary>
    public static string HeaderLine(RunJournalHeader header)
    {
        var node = JsonSerializer.SerializeToNode(header, Json)!.AsObject();
        node["type"] = "header";
        return node.ToJsonString(Json);
    }

    /// <summary>An event line.</summary>
    public static string EventLine(long seq, TrainingEvent e)
    {
        var node = new JsonObject
        {
            ["type"] = e.GetType().Name,
            ["seq"] = seq,
            ["event"] = JsonSerializer.SerializeToNode(e, e.GetType(), Json),
        };
        return node.ToJsonString(Json);
    }

    /// <summary>A parsed line: a header, or a numbered event; null for an unknown or corrupt line.</summary>
    public static (RunJournalHeader? Header, RunUpdate? Update) ParseLine(string line)
    {
        try
        {
            if (JsonNode.Parse(line) is not JsonObject node) return (null, null);
            if (node["type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type)) return (null, null);
            if (type == "header") return (node.Deserialize<RunJournalHeader>(Json), null);
            if (!EventTypes.TryGetValue(type, out var t)) return (null, null);
            if (node["seq"] is not JsonValue seqValue || !seqValue.TryGetValue<long>(out var seq) || seq < 1) return (null, null);
            if (node["event"] is not JsonObject body) return (null, null);
            var e = (TrainingEvent?)body.Deserialize(t, Json);
            return e is null || string.IsNullOrEmpty(e.RunId) ? (null, null) : (null, new RunUpdate(seq, e));
        }
        // Whatever a hostile or torn line holds, it is one bad line, never a failed import.
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NotSupportedException or ArgumentException)
        {
            return (null, null);
        }
    }
}

/// <summary>
/// Writes a headless run's journal (see <see cref="RunJournal"/>). As a trainer observer it only
/// enqueues: a background task appends and flushes lines, so the training thread never waits on
/// the disk. Dispose after the trainer returns to write the rest.
/// </summary>
public sealed class RunJournalWriter : ITrainingObserver, IDisposable
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly StreamWriter _writer;
    private readonly Task _pump;
    private long _seq;

    /// <summary>Creates the journal file (folder included) and writes the header.</summary>
    public RunJournalWriter(string journalDirectory, RunJournalHeader header)
    {
        Directory.CreateDirectory(journalDirectory);
        Path = RunJournal.PathFor(journalDirectory, header.RunId);
        var stream = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
        _writer.WriteLine(RunJournal.HeaderLine(header));
        _writer.Flush();
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>The journal file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public void OnEvent(TrainingEvent trainingEvent)
    {
        var seq = Interlocked.Increment(ref _seq);
        _lines.Writer.TryWrite(RunJournal.EventLine(seq, trainingEvent));
    }

    private async Task PumpAsync()
    {
        while (await _lines.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_lines.Reader.TryRead(out var line)) await _writer.WriteLineAsync(line).ConfigureAwait(false);
            await _writer.FlushAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _pump.GetAwaiter().GetResult();
        _writer.Dispose();
    }
}
