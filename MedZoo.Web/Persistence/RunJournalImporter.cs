using System.Diagnostics;
using System.Text;
using MedZoo.Engine.Training;
using MedZoo.Web.Live;

namespace MedZoo.Web.Persistence;

/// <summary>
/// Imports headless runs' journals (<see cref="RunJournal"/>) into the store: on start and then
/// every <see cref="PollInterval"/>, it reads each journal's new complete lines and publishes
/// them through the notifier, so they are recorded and shown live like the server's own runs.
/// Checkpoints the journal reports are copied into the store. A journal whose writer died
/// without finishing marks its run interrupted. Imported events are numbered by the writer and
/// the run remembers the last number stored, so a line is never stored twice.
/// </summary>
public sealed class RunJournalImporter(
    MedZooDatabase database,
    RunRepository runs,
    RunNotifier notifier,
    RunEventRecorder recorder,
    LiteDbCheckpointStore checkpoints,
    ILogger<RunJournalImporter> logger) : BackgroundService
{
    /// <summary>How often journals are polled (the dashboard shows CLI runs this much behind at most).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

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
        var dir = database.Options.JournalDirectory;
        if (!Directory.Exists(dir)) return;
        foreach (var path in Directory.EnumerateFiles(dir, "*" + RunJournal.Extension).Order(StringComparer.Ordinal))
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                await ImportAsync(path, cancellation).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                logger.LogWarning(e, "Could not read run journal {Path}", path);
            }
        }
    }

    private async Task ImportAsync(string path, CancellationToken cancellation)
    {
        var name = Path.GetFileName(path);
        var journal = database.Journals.FindById(name) ?? new JournalDocument { Id = name };
        if (journal.Finished)
        {
            File.Delete(path);
            return;
        }
        var (lines, consumed) = ReadCompleteLines(path, journal.Offset);
        RunDocument? run = journal.RunId.Length > 0 ? runs.Get(journal.RunId) : null;
        var finished = false;
        foreach (var line in lines)
        {
            var (header, update) = RunJournal.ParseLine(line);
            if (header is not null)
            {
                var existing = runs.Get(header.RunId);
                run = existing is null ? CreateRun(header) : ContinueRun(existing, header);
                journal.RunId = run.Id;
                journal.SeqBase = run.LastSeq;
                notifier.BeginRun(run.Id, run.LastSeq);
                notifier.PublishStatus(run.Id, run.Status);
                continue;
            }
            if (update is null || run is null) continue;
            if (update.Event.RunId != run.Id) continue;
            notifier.PublishNumbered(journal.SeqBase + update.Seq, update.Event);
            if (update.Event is CheckpointSaved c && File.Exists(c.Location))
                checkpoints.Import(run.Id, c.Kind, c.Epoch, c.Location);
            if (update.Event is RunFinished) finished = true;
        }
        if (lines.Count > 0)
        {
            // The events must be stored before the offset moves past them.
            await recorder.FlushAsync(cancellation).ConfigureAwait(false);
        }
        journal.Offset += consumed;
        if (run is not null && !finished && WriterIsGone(run))
        {
            var stored = runs.Update(run.Id, r =>
            {
                if (r.Status.IsFinished()) return;
                RunRepository.EndSession(r, r.LastActivityAt ?? DateTime.UtcNow);
                r.Status = RunStatus.Interrupted;
                r.Reason = $"the command-line process (pid {r.ProcessId}) ended without finishing the run";
            });
            if (stored is not null) notifier.PublishStatus(run.Id, stored.Status, stored.Reason);
            finished = true;
        }
        journal.Finished = finished;
        database.Journals.Upsert(journal);
        if (finished)
        {
            if (run is not null) notifier.PublishStatus(run.Id, runs.Get(run.Id)?.Status, runs.Get(run.Id)?.Reason);
            File.Delete(path);
        }
    }

    private RunDocument CreateRun(RunJournalHeader h)
    {
        var run = new RunDocument
        {
            Id = h.RunId, Name = h.Name, Status = RunStatus.Running, Source = RunSource.Cli, CreatedBy = h.CreatedBy,
            CreatedAt = h.CreatedAt, ConfigJson = h.ConfigJson, Model = h.Model, Dataset = h.Dataset, Epochs = h.Epochs,
            Device = h.Device, ProcessId = h.ProcessId, Host = h.Host, Sessions = 1, StartedAt = h.CreatedAt,
            SessionStartedAt = h.CreatedAt, LastActivityAt = h.CreatedAt,
        };
        runs.Insert(run);
        logger.LogInformation("Recording command-line run {RunId} ({Name}) from its journal", run.Id, run.Name);
        return run;
    }

    // A headless resume of a run the store already has: a new session of the same run.
    private RunDocument ContinueRun(RunDocument run, RunJournalHeader h) =>
        runs.Update(run.Id, r =>
        {
            r.Status = RunStatus.Running;
            r.Reason = null;
            r.FinishedAt = null;
            r.Sessions++;
            r.SessionStartedAt = h.CreatedAt;
            r.ProcessId = h.ProcessId;
            r.Host = h.Host;
        })!;

    // Only a writer on this host can be checked; one elsewhere (a shared folder) is assumed alive.
    private static bool WriterIsGone(RunDocument run)
    {
        if (run.ProcessId is not { } pid || !string.Equals(run.Host, Environment.MachineName, StringComparison.Ordinal)) return false;
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

    /// <summary>Reads the complete lines after <paramref name="offset"/>; returns them and the bytes they span.</summary>
    internal static (List<string> Lines, long Consumed) ReadCompleteLines(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length <= offset) return ([], 0);
        stream.Position = offset;
        var buffer = new byte[stream.Length - offset];
        stream.ReadExactly(buffer);
        var end = Array.LastIndexOf(buffer, (byte)'\n');
        if (end < 0) return ([], 0);
        var text = Encoding.UTF8.GetString(buffer, 0, end);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        return (lines, end + 1);
    }
}
