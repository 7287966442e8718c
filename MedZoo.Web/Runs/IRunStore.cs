using MedZoo.Engine.Checkpoints;

namespace MedZoo.Web.Runs;

/// <summary>
/// Runs as the queue, the pages and the API ask for them. Read-modify-write goes through
/// <see cref="Update"/>, which serializes writers, so the event recorder and the run worker never
/// overwrite each other's fields. LiteDB implements it today (<c>Persistence.RunRepository</c>); a
/// database server implements it with one row per run and a row lock in <see cref="Update"/>.
/// </summary>
public interface IRunStore
{
    /// <summary>The run, or null (run page, hub subscription, API, worker).</summary>
    RunRecord? Get(string id);

    /// <summary>Every run, newest first (runs list, home page, compare page, API).</summary>
    IReadOnlyList<RunRecord> List();

    /// <summary>Runs in the given states, oldest first (the queue: queued runs in start order; running runs at start-up).</summary>
    IReadOnlyList<RunRecord> WithStatus(params RunStatus[] statuses);

    /// <summary>Adds a new run (the New run form, the API, an imported command-line run).</summary>
    void Insert(RunRecord run);

    /// <summary>Applies <paramref name="change"/> to the stored run and saves it; returns the result, or null if it does not exist.</summary>
    RunRecord? Update(string id, Action<RunRecord> change);

    /// <summary>
    /// Runs <paramref name="write"/> as one transaction over every run store (the run, its points, lines
    /// and previews): the event recorder writes a batch of events this way.
    /// </summary>
    void WriteBatch(Action write);

    /// <summary>Deletes a run with its metric points, events, previews and checkpoints.</summary>
    bool Delete(string id);

    /// <summary>Marks the dashboard's runs left running by a stopped server as interrupted; returns their ids.</summary>
    IReadOnlyList<string> MarkInterrupted(string reason, DateTime utcNow);
}

/// <summary>Limits shared by the history stores and the API that pages through them.</summary>
public static class RunHistory
{
    /// <summary>Largest page <see cref="IMetricStore.MetricsAfter"/> and <see cref="IRunEventStore.EventsAfter"/> return.</summary>
    public const int MaxPageSize = 5000;
}

/// <summary>
/// A run's metric points: one per step and one per epoch, numbered by the event that produced them
/// (<see cref="MetricPointRecord.Seq"/>) and keyed by run and step or epoch (<see cref="MetricPointRecord.Key"/>).
/// </summary>
public interface IMetricStore
{
    /// <summary>A run's points in chart order: step points by step, then epoch points by epoch (compare page, review metrics).</summary>
    IReadOnlyList<MetricPointRecord> Metrics(string runId, MetricKind? kind = null);

    /// <summary>
    /// Up to <paramref name="limit"/> (1..<see cref="RunHistory.MaxPageSize"/>) points numbered above
    /// <paramref name="afterSeq"/>, in the order they happened, optionally of one kind; points sharing a
    /// number are never split across pages (run page history, the metrics API).
    /// </summary>
    SeqPage<MetricPointRecord> MetricsAfter(string runId, long afterSeq, int limit, MetricKind? kind = null);

    /// <summary>Stores a point, replacing the one with the same key (a step replayed after a resume).</summary>
    void Upsert(MetricPointRecord point);

    /// <summary>Stores a point unless one with its key exists (epochs restored from a checkpoint never overwrite); returns whether it was stored.</summary>
    bool AddIfAbsent(MetricPointRecord point);
}

/// <summary>A run's log lines (start, state changes, checkpoints, log, finish), numbered like its points.</summary>
public interface IRunEventStore
{
    /// <summary>The last <paramref name="limit"/> lines in order (the run page's log).</summary>
    IReadOnlyList<RunEventRecord> Events(string runId, int limit = 1000);

    /// <summary>Up to <paramref name="limit"/> lines numbered above <paramref name="afterSeq"/>, in order (the events API).</summary>
    SeqPage<RunEventRecord> EventsAfter(string runId, long afterSeq, int limit);

    /// <summary>Stores a line unless one with its key exists (a journal line imported twice is one line); returns whether it was stored.</summary>
    bool AddIfAbsent(RunEventRecord line);
}

/// <summary>Everything a run page reads of one run's history: its points, its log and its previews.</summary>
public interface IRunHistoryStore : IMetricStore, IRunEventStore, IPreviewStore;

/// <summary>The latest slice previews of a run: one per plane and slice, replaced as training goes on.</summary>
public interface IPreviewStore
{
    /// <summary>A run's previews by plane, then slice (the run page's preview panel).</summary>
    IReadOnlyList<SlicePreviewRecord> Previews(string runId);

    /// <summary>Stores a preview, replacing the one of the same run, plane and slice.</summary>
    void Upsert(SlicePreviewRecord preview);
}

/// <summary>
/// Checkpoints of the dashboard's runs: the engine's <see cref="ICheckpointStore"/> (the trainer saves
/// and resumes through it) plus what pages, reviews and the API ask. A save never overwrites in place:
/// a crash leaves the old or the new checkpoint readable, never a torn one.
/// </summary>
public interface IRunCheckpointStore : ICheckpointStore
{
    /// <summary>The pointer to a run's checkpoint of one kind ("last" or "best"), or null (review choices, resume checks).</summary>
    CheckpointRecord? Find(string runId, string kind);

    /// <summary>A run's checkpoints by kind (the run page's downloads).</summary>
    IReadOnlyList<CheckpointRecord> List(string runId);

    /// <summary>
    /// Opens a checkpoint together with the pointer that names it, so its epoch matches the bytes even when a
    /// save lands meanwhile; the bytes stay readable until the stream is disposed (downloads). Null if none.
    /// </summary>
    (Stream Stream, CheckpointRecord Pointer)? Open(string runId, string kind);

    /// <summary>Stores a checkpoint written elsewhere (a headless run's output folder), at most <paramref name="maxBytes"/> of it.</summary>
    /// <exception cref="InvalidDataException">The source holds more than <paramref name="maxBytes"/> bytes (nothing is stored).</exception>
    string Import(string runId, string kind, int epoch, Stream source, long maxBytes = long.MaxValue);

    /// <summary>Deletes stored bytes no checkpoint points to and no upload or reader uses (at start-up); returns how many.</summary>
    int RemoveOrphans();
}
