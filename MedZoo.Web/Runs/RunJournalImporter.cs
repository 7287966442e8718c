using System.Diagnostics;
using System.Globalization;
using System.Text;
using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Runs;

/// <summary>
/// Imports headless runs' journals (<see cref="RunJournal"/>) into the store: on start and then
/// every <see cref="PollInterval"/>, it streams each journal's new complete lines and publishes
/// them through the notifier, so they are recorded and shown live like the server's own runs.
/// A journal is outside input and is treated as such:
/// <list type="bullet">
/// <item>One bad line (torn, not JSON, too long, another run's) is skipped and logged; one journal's
/// trouble never stops the others.</item>
/// <item>The stored offset only moves past lines whose events the recorder stored; events it could
/// not store are imported again next pass (storage is idempotent). A journal that cannot make
/// progress, cannot be a journal (no header, a link or a pipe) or names a dashboard run is moved to
/// <see cref="DataOptions.QuarantineDirectory"/> with a reason file, and its run marked interrupted.</item>
/// <item>A reported checkpoint is copied into the store only when it is a regular
/// <c>last.ckpt</c>/<c>best.ckpt</c> in the writer's output folder, at most
/// <see cref="DataOptions.MaxImportedCheckpointBytes"/>, whose header names this run, kind and epoch.</item>
/// </list>
/// A journal whose writer died without finishing marks its run interrupted. Each journal is imported under a claim
/// (<see cref="IRunJournalStore.TryClaim"/>), so cluster web nodes that share a data folder import it once between them.
/// </summary>
public sealed class RunJournalImporter(
    IOptions<DataOptions> options,
    IRunStore runs,
    IRunJournalStore journals,
    RunNotifier notifier,
    RunEventRecorder recorder,
    IRunCheckpointStore checkpoints,
    ILogger<RunJournalImporter> logger) : BackgroundService
{
    private readonly DataOptions _options = options.Value;

    /// <summary>How often journals are polled (the dashboard shows CLI runs this much behind at most).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Lines imported between two flushes of the recorder (each stores the offset reached).</summary>
    public const int LinesPerFlush = 1000;

    /// <summary>Passes in a row that may fail to store a journal's events before the journal is quarantined.</summary>
    public const int MaxFailedPasses = 10;

    // Highest number each journal has handed to the notifier in this process: the notifier drops numbers it
    // has seen, so events re-imported after a failed store go straight to the recorder.
    private readonly Dictionary<string, long> _delivered = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _errors = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval);
        do
        {
            try
            {
                await ImportAllAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Importing run journals failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>Imports what is new in every journal.</summary>
    public async Task ImportAllAsync(CancellationToken cancellation = default)
    {
        var dir = _options.JournalDirectory;
        if (!Directory.Exists(dir)) return;
        foreach (var path in Directory.EnumerateFiles(dir, "*" + RunJournal.Extension).Order(StringComparer.Ordinal))
        {
            cancellation.ThrowIfCancellationRequested();
            var name = Path.GetFileName(path);
            try
            {
                // Web nodes sharing a data folder (cluster mode) take turns: one journal is imported by one of them at a time.
                using var claim = journals.TryClaim(name);
                if (claim is null) continue;
                await ImportAsync(path, cancellation).ConfigureAwait(false);
                _errors.Remove(name);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                // Tried again next pass; the journals after it go on meanwhile.
                var count = _errors[name] = _errors.GetValueOrDefault(name) + 1;
                if (count == 1 || count % 100 == 0)
                    logger.LogWarning(e, "Could not import run journal {Name} ({Count} passes in a row); the other journals go on", name, count);
            }
        }
    }

    private async Task ImportAsync(string path, CancellationToken cancellation)
    {
        var name = Path.GetFileName(path);
        // Gone since the folder was listed: another importer on the same folder finished or quarantined it meanwhile.
        if (!File.Exists(path) && new FileInfo(path).LinkTarget is null) return;
        if (!LocalFiles.IsRegularFile(path))
        {
            Quarantine(path, null, "it is not a regular file (a link, a pipe or a device)");
            return;
        }
        var journal = journals.Get(name) ?? new JournalRecord { Id = name };
        if (journal.Finished)
        {
            File.Delete(path);
            return;
        }
        RunRecord? run = null;
        if (!string.IsNullOrEmpty(journal.RunId))
        {
            run = runs.Get(journal.RunId);
            if (run is null)
            {
                // Deleted from the dashboard while the command line still wrote it.
                journal.Finished = true;
                journals.Save(journal);
                File.Delete(path);
                return;
            }
        }

        var finished = false;
        var failedBefore = run is null ? 0 : recorder.FailedUpdates(run.Id);
        long pending = 0; // bytes read since the stored offset
        var lines = 0;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            if (stream.Length < journal.Offset)
            {
                Quarantine(path, run, "it is shorter than the part already imported (it was truncated or replaced)");
                return;
            }
            stream.Position = journal.Offset;
            var reader = new JournalLineReader(stream, _options.MaxJournalLineBytes);
            while (reader.Next(out var line, out var bytes))
            {
                var at = journal.Offset + pending;
                pending += bytes;
                if (line is null)
                {
                    logger.LogWarning("Run journal {Name}: skipped a line of {Bytes} bytes at byte {Offset}, longer than the {Max} accepted",
                        name, bytes, at, _options.MaxJournalLineBytes);
                    continue;
                }
                if (string.IsNullOrWhiteSpace(line)) continue;
                var (header, update) = RunJournal.ParseLine(line);
                if (run is null)
                {
                    if (header is null)
                    {
                        Quarantine(path, null, "its first line is not a run header");
                        return;
                    }
                    if (Begin(path, journal, header, pending) is not { } begun) return;
                    run = begun;
                    pending = 0;
                    failedBefore = recorder.FailedUpdates(run.Id);
                    continue;
                }
                if (header is not null || update is null || update.Event.RunId != run.Id)
                {
                    logger.LogWarning("Run journal {Name}: skipped the line at byte {Offset}: {Why}", name, at,
                        header is not null ? "a second header" : update is null ? "not a run event this version understands" : "an event of another run");
                    continue;
                }
                // The checkpoint is stored before its event, which takes the epochs of its history the store lacks.
                if (update.Event is CheckpointSaved c) ImportCheckpoint(name, run, journal, c);
                Deliver(name, journal.SeqBase + update.Seq, update.Event);
                if (update.Event is RunFinished) finished = true;
                if (++lines % LinesPerFlush == 0)
                {
                    if (!await StoreOffsetAsync().ConfigureAwait(false)) return;
                    cancellation.ThrowIfCancellationRequested();
                }
            }
        }
        if (run is null)
        {
            // No complete header yet: wait for it while the writer lives (it is written right after the file is created).
            if (WriterPidFromName(name) is { } pid && ProcessIsGone(pid))
                Quarantine(path, null, $"its writer (pid {pid}) ended before it wrote the run header");
            return;
        }
        if (!await StoreOffsetAsync().ConfigureAwait(false)) return;

        if (!finished && WriterIsGone(run))
        {
            var stored = runs.Update(run.Id, r =>
                RunProjection.Interrupt(r, $"the command-line process (pid {r.ProcessId}) ended without finishing the run", r.LastActivityAt ?? DateTime.UtcNow));
            if (stored is not null) notifier.PublishStatus(run.Id, stored.Status, stored.Reason);
            finished = true;
        }
        if (finished)
        {
            journal.Finished = true;
            journals.Save(journal);
            _delivered.Remove(name);
            var now = runs.Get(run.Id);
            notifier.PublishStatus(run.Id, now?.Status, now?.Reason);
            // The journal is the only other copy of these events: it goes only once they are durable.
            journals.Flush();
            File.Delete(path);
        }

        // The events read so far must be stored before the offset moves past them.
        async Task<bool> StoreOffsetAsync()
        {
            if (pending == 0) return true;
            await recorder.FlushAsync(cancellation).ConfigureAwait(false);
            if (recorder.FailedUpdates(run!.Id) > failedBefore)
            {
                journal.FailedPasses++;
                journals.Save(journal);
                if (journal.FailedPasses >= MaxFailedPasses)
                    Quarantine(path, run, $"some of its events could not be stored in {MaxFailedPasses} tries in a row (the server log says why)");
                else
                    logger.LogWarning("Run journal {Name}: some events could not be stored; they will be imported again", name);
                return false;
            }
            journal.Offset += pending;
            journal.FailedPasses = 0;
            pending = 0;
            journals.Save(journal);
            return true;
        }
    }

    // The header creates or continues the run; the run and the offset past the header are one transaction, so a
    // header is applied exactly once whenever the process dies.
    private RunRecord? Begin(string path, JournalRecord journal, RunJournalHeader header, long headerBytes)
    {
        if (HeaderProblem(header) is { } problem)
        {
            Quarantine(path, null, problem);
            return null;
        }
        var existing = runs.Get(header.RunId);
        if (existing is not null && existing.Source != RunSource.Cli)
        {
            Quarantine(path, null,
                $"its header names run '{header.RunId}', which was started from the dashboard: a journal can only record or continue a command-line run");
            return null;
        }
        RunRecord? run = null;
        runs.WriteBatch(() =>
        {
            run = existing is null ? CreateRun(header) : ContinueRun(existing, header);
            journal.RunId = run.Id;
            journal.SeqBase = run.LastSeq;
            journal.OutputDirectory = header.OutputDirectory;
            journal.Offset += headerBytes;
            journals.Save(journal);
        });
        if (existing is null) logger.LogInformation("Recording command-line run {RunId} ({Name}) from its journal", run!.Id, run.Name);
        notifier.BeginRun(run!.Id, run.LastSeq);
        notifier.PublishStatus(run.Id, run.Status);
        return run;
    }

    private static string? HeaderProblem(RunJournalHeader h)
    {
        if (string.IsNullOrWhiteSpace(h.RunId) || h.RunId.Length > 200 || h.RunId.Any(ch => char.IsControl(ch) || ch is '/' or '\\'))
            return "its header has no usable run id (1 to 200 characters, no slashes or control characters)";
        if (h.Name is null || h.CreatedBy is null || h.ConfigJson is null)
            return "its header lacks the run's name, creator or configuration";
        return null;
    }

    private void Deliver(string journal, long seq, TrainingEvent e)
    {
        // Viewers had it and only its storage failed, or another node sharing the folder delivered it and then left the
        // journal to this one before storing it: either way it must still be stored (storage is idempotent).
        if (seq <= _delivered.GetValueOrDefault(journal) || !notifier.PublishNumbered(seq, e))
            recorder.Enqueue(new RunUpdate(seq, e));
        _delivered[journal] = Math.Max(seq, _delivered.GetValueOrDefault(journal));
    }

    private void ImportCheckpoint(string journalName, RunRecord run, JournalRecord journal, CheckpointSaved c)
    {
        var max = _options.MaxImportedCheckpointBytes;
        var problem = CheckpointPathProblem(journal.OutputDirectory, c, out var path);
        if (problem is null)
        {
            try
            {
                using var file = new FileStream(path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                if (file.Length > max)
                {
                    problem = $"it is {file.Length} bytes, more than the {max} accepted (MedZoo:MaxImportedCheckpointBytes)";
                }
                else
                {
                    var h = Checkpoint.ReadHeader(file);
                    if (h.RunId != run.Id || h.Kind != c.Kind || h.Epoch != c.Epoch)
                    {
                        problem = $"its header is run '{h.RunId}', {h.Kind}, epoch {h.Epoch}, not what the journal reports";
                    }
                    else
                    {
                        // The same open file is copied: a newer save renamed over the path meanwhile does not mix in.
                        file.Position = 0;
                        checkpoints.Import(run.Id, c.Kind, c.Epoch, file, max);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                problem = e.Message;
            }
        }
        if (problem is not null)
            logger.LogWarning("Run journal {Name}: the {Kind} checkpoint of epoch {Epoch} at {Location} was not imported: {Problem}",
                journalName, c.Kind, c.Epoch, c.Location, problem);
    }

    /// <summary>Why a reported checkpoint location is refused before it is opened, or null with its full path.</summary>
    internal static string? CheckpointPathProblem(string? outputDirectory, CheckpointSaved c, out string? path)
    {
        path = null;
        if (c.Kind is not ("last" or "best")) return $"kind '{c.Kind}' is neither last nor best";
        if (string.IsNullOrEmpty(outputDirectory) || !Path.IsPathFullyQualified(outputDirectory))
            return "the journal's header names no output folder";
        if (string.IsNullOrEmpty(c.Location) || !Path.IsPathFullyQualified(c.Location)) return "the location is not an absolute path";
        var expected = Path.Combine(Path.GetFullPath(outputDirectory), c.Kind + FileCheckpointStore.Extension);
        var full = Path.GetFullPath(c.Location);
        if (!string.Equals(full, expected, StringComparison.Ordinal))
            return $"it is not {c.Kind}{FileCheckpointStore.Extension} in the run's output folder";
        if (!LocalFiles.IsRegularFile(full)) return "it is not a regular file (missing, a link, a pipe or a device)";
        path = full;
        return null;
    }

    private void Quarantine(string path, RunRecord? run, string reason)
    {
        var name = Path.GetFileName(path);
        var dir = _options.QuarantineDirectory;
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, name);
        if (File.Exists(target) || Directory.Exists(target))
            target = Path.Combine(dir, $"{name}.{DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture)}");
        File.Move(path, target);
        File.WriteAllText(target + ".reason.txt",
            $"{DateTime.UtcNow:O}: {name} was not imported: {reason}.\nMove it back to the journal folder to try again.\n");
        journals.Delete(name);
        _delivered.Remove(name);
        logger.LogWarning("Run journal {Name} cannot be imported and was moved to {Folder}: {Reason}", name, dir, reason);
        if (run is null) return;
        var stored = runs.Update(run.Id, r =>
            RunProjection.Interrupt(r, $"its command-line journal could not be imported further: {reason}", r.LastActivityAt ?? DateTime.UtcNow));
        if (stored is not null) notifier.PublishStatus(run.Id, stored.Status, stored.Reason);
    }

    private RunRecord CreateRun(RunJournalHeader h)
    {
        var run = new RunRecord
        {
            Id = h.RunId, Name = h.Name, Source = RunSource.Cli, CreatedBy = h.CreatedBy,
            CreatedAt = h.CreatedAt, ConfigJson = h.ConfigJson, Model = h.Model ?? "", Dataset = h.Dataset ?? "", Epochs = h.Epochs,
            Device = h.Device ?? "auto", ProcessId = h.ProcessId, Host = h.Host, LastActivityAt = h.CreatedAt,
        };
        RunProjection.BeginSession(run, h.CreatedAt);
        runs.Insert(run);
        return run;
    }

    // A headless resume of a run the store already has: a new session of the same run.
    private RunRecord ContinueRun(RunRecord run, RunJournalHeader h) =>
        runs.Update(run.Id, r =>
        {
            RunProjection.BeginSession(r, h.CreatedAt);
            r.ProcessId = h.ProcessId;
            r.Host = h.Host;
        })!;

    // Only a writer on this host can be checked; one elsewhere (a shared folder) is assumed alive.
    private static bool WriterIsGone(RunRecord run) =>
        run.ProcessId is { } pid && string.Equals(run.Host, Environment.MachineName, StringComparison.Ordinal) && ProcessIsGone(pid);

    private static bool ProcessIsGone(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>The writer's process id from a journal name (<c>{runId}.{pid}.{time}.jsonl</c>, see <see cref="RunJournal.PathFor"/>).</summary>
    internal static int? WriterPidFromName(string fileName)
    {
        var parts = Path.GetFileNameWithoutExtension(fileName).Split('.');
        return parts.Length >= 3 && int.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
    }
}

/// <summary>
/// Reads a journal's complete lines one at a time from a stream, whatever the file's size: memory
/// stays within one line of at most <c>maxLineBytes</c>; a longer line is skipped (returned as null)
/// without being kept. An unterminated last line is left for a later read.
/// </summary>
internal sealed class JournalLineReader(Stream stream, int maxLineBytes)
{
    private readonly byte[] _buffer = new byte[1 << 16];
    private readonly MemoryStream _line = new();
    private int _start;
    private int _end;
    private long _lineBytes;
    private bool _tooLong;

    /// <summary>The next complete line (null when too long) and the bytes it spans with its newline; false at the end of complete lines.</summary>
    public bool Next(out string? line, out long bytes)
    {
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = stream.Read(_buffer, 0, _buffer.Length);
                if (_end == 0)
                {
                    line = null;
                    bytes = 0;
                    return false;
                }
            }
            var span = _buffer.AsSpan(_start, _end - _start);
            var newline = span.IndexOf((byte)'\n');
            var part = newline < 0 ? span : span[..newline];
            _lineBytes += part.Length;
            if (!_tooLong)
            {
                if (_line.Length + part.Length > maxLineBytes)
                {
                    _tooLong = true;
                    _line.SetLength(0);
                }
                else
                {
                    _line.Write(part);
                }
            }
            _start += part.Length;
            if (newline < 0) continue;
            _start++;
            bytes = _lineBytes + 1;
            line = _tooLong ? null : Encoding.UTF8.GetString(_line.GetBuffer(), 0, (int)_line.Length);
            _line.SetLength(0);
            _lineBytes = 0;
            _tooLong = false;
            return true;
        }
    }
}
