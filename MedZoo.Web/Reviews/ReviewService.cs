using System.Security.Claims;
using MedZoo.Engine.Data;
using MedZoo.Engine.Training;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using MedZoo.Web.Runs;

namespace MedZoo.Web.Reviews;

/// <summary>A checkpoint a review can use.</summary>
public sealed record CheckpointChoice(string Kind, int Epoch);

/// <summary>
/// What pages and endpoints do with reviews: list what can be reviewed (runs with checkpoints,
/// their validation subjects, uploads), start a review (operators; the queue's runner runs it), delete one.
/// </summary>
public sealed class ReviewService(
    IReviewStore repository, IRunStore runs, IRunCheckpointStore checkpoints, IReviewFiles files,
    ReviewRunner runner, IReviewQueue queue, DatasetService datasets, TimeProvider clock)
{
    /// <summary>Runs with at least one checkpoint, newest first.</summary>
    public IReadOnlyList<RunRecord> ReviewableRuns() => runs.List().Where(r => Checkpoints(r.Id).Count > 0).ToList();

    /// <summary>The run's best and last checkpoints that exist.</summary>
    public IReadOnlyList<CheckpointChoice> Checkpoints(string runId) =>
        new[] { "best", "last" }.Select(k => checkpoints.Find(runId, k) is { } c ? new CheckpointChoice(k, c.Epoch) : null).OfType<CheckpointChoice>().ToList();

    /// <summary>The dataset options a run trained with (from its stored configuration).</summary>
    public static DatasetOptions DatasetOf(RunRecord run) => RunConfigJson.Deserialize<TrainerOptions>(run.ConfigJson).Dataset;

    /// <summary>
    /// The dataset options of a run, its folder checked against the data roots for runs started
    /// from the dashboard (command-line runs read what their own user chose).
    /// </summary>
    /// <exception cref="ArgumentException">The folder is outside every data root (the message names the roots).</exception>
    public static DatasetOptions ReadableDataset(RunRecord run, DatasetService datasets)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(datasets);
        var d = DatasetOf(run);
        if (run.Source == RunSource.Dashboard && DatasetCatalog.Find(d.Name)?.RequiresPath == true)
            d.Path = datasets.Roots.ResolveReadable(d.Path, "Dataset.Path");
        return d;
    }

    /// <summary>Validation subject ids of the run's dataset, as the trainer splits it.</summary>
    /// <exception cref="DatasetException">The dataset cannot be scanned (moved, deleted).</exception>
    public static IReadOnlyList<string> ValidationSubjects(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var options = DatasetOf(run);
        var scan = DatasetCatalog.Get(options.Name).Scan(options);
        if (scan.Errors.Count > 0) throw new DatasetException($"dataset '{options.Name}' cannot be read: {string.Join("; ", scan.Errors)}");
        return DatasetSplit.For(options, scan.Subjects.Select(s => s.Id)).Validation;
    }

    /// <summary>Identifies a validation subject across runs: the dataset configuration that generates or locates it, and its id.</summary>
    public static string ValidationKey(DatasetOptions d, string subjectId) =>
        FormattableString.Invariant($"validation:{d.Name}|{d.Path}|{d.SyntheticSubjects}|{string.Join('x', d.SyntheticSize ?? [])}|{d.Seed}|{subjectId}");

    public IReadOnlyList<ReviewRecord> List() => repository.List();

    public ReviewRecord? Get(string id) => repository.Get(id);

    /// <summary>
    /// Queues a review of <paramref name="runId"/>'s checkpoint on a subject; with
    /// <paramref name="testTimeAugmentation"/> it predicts with mirroring along every axis (8 passes per window).
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">Not an operator.</exception>
    /// <exception cref="ArgumentException">Unknown run, checkpoint, subject or upload (message names it).</exception>
    public ReviewRecord Start(ClaimsPrincipal user, string runId, string checkpointKind, ReviewSource source, string subjectId, bool testTimeAugmentation = false)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.DemandOperator("start reviews");
        var run = runs.Get(runId) ?? throw new ArgumentException($"no run '{runId}'");
        var pointer = checkpoints.Find(runId, checkpointKind) ?? throw new ArgumentException($"run '{run.Name}' has no '{checkpointKind}' checkpoint");
        string name, key;
        if (source == ReviewSource.Validation)
        {
            // The dataset folder is read again: it must still lie under a data root.
            ReadableDataset(run, datasets);
            if (!ValidationSubjects(run).Contains(subjectId))
                throw new ArgumentException($"'{subjectId}' is not a validation subject of run '{run.Name}'");
            var d = DatasetOf(run);
            name = $"{subjectId} ({d.Name})";
            key = ValidationKey(d, subjectId);
        }
        else
        {
            var upload = repository.GetUpload(subjectId) ?? throw new ArgumentException($"no upload '{subjectId}'");
            name = upload.Name;
            key = $"upload:{upload.Id}";
        }
        // Refused here, before it is queued, when the volume would not fit the memory budget (the
        // worker checks again with the checkpoint's exact class count before it reads anything).
        try
        {
            var classes = Math.Max(2, run.ClassNames.Count);
            if (source == ReviewSource.Validation)
            {
                var d = ReadableDataset(run, datasets);
                runner.CheckBudget(ReviewRunner.SubjectVoxels(d, subjectId), Math.Max(1, run.Modalities.Count), classes);
            }
            else
            {
                var upload = repository.GetUpload(subjectId)!;
                runner.CheckBudget(upload.Shape.Aggregate(1L, (a, b) => a * b), Math.Max(1, upload.Channels), classes);
            }
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException(e.Message, e);
        }
        var review = new ReviewRecord
        {
            Id = $"{clock.GetUtcNow():yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}",
            RunId = run.Id,
            RunName = run.Name,
            CheckpointKind = checkpointKind,
            CheckpointEpoch = pointer.Epoch,
            Source = source,
            SubjectId = subjectId,
            SubjectName = name,
            SubjectKey = key,
            Status = ReviewStatus.Queued,
            TestTimeAugmentation = testTimeAugmentation,
            CreatedBy = user.Identity?.Name ?? "",
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        repository.Save(review);
        queue.Enqueue(review);
        return review;
    }

    /// <summary>
    /// Queues an interrupted or failed review again (operators): the explicit re-run of a review a
    /// crash cut short, which the worker never re-runs on its own.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">Not an operator.</exception>
    /// <exception cref="ArgumentException">No such review.</exception>
    /// <exception cref="InvalidOperationException">The review is queued, running or completed.</exception>
    public ReviewRecord Rerun(ClaimsPrincipal user, string id)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.DemandOperator("run reviews again");
        var review = repository.Get(id) ?? throw new ArgumentException($"no review '{id}'");
        if (review.Status is not (ReviewStatus.Interrupted or ReviewStatus.Failed))
            throw new InvalidOperationException($"review '{id}' is {review.Status}; only interrupted or failed reviews can be run again");
        review.Status = ReviewStatus.Queued;
        review.Reason = null;
        review.FinishedAt = null;
        review.WindowsDone = 0;
        review.WindowsTotal = 0;
        review.Attempts = 0;
        repository.Save(review);
        queue.Enqueue(review);
        return review;
    }

    /// <summary>Deletes a finished review and its files (operators).</summary>
    public bool Delete(ClaimsPrincipal user, string id)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.DemandOperator("delete reviews");
        var review = repository.Get(id);
        if (review is null || review.Status is ReviewStatus.Running) return false;
        repository.Delete(id);
        files.Delete(ReviewFileArea.Reviews, id);
        return true;
    }

    /// <summary>True if two reviews show the same subject on the same grid (so they can be compared side by side).</summary>
    public static bool Comparable(ReviewRecord a, ReviewRecord b) =>
        a.Id != b.Id && a.SubjectKey == b.SubjectKey && a.Status == ReviewStatus.Completed && b.Status == ReviewStatus.Completed
        && a.Shape.SequenceEqual(b.Shape);
}
