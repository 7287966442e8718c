using MedZoo.Web.Accounts;
using MedZoo.Web.Api;
using MedZoo.Web.Live;

namespace MedZoo.Web.Runs;

/// <summary>Body of POST /api/runs: a display name (optional) and the trainer's configuration as JSON (what the New run form edits).</summary>
public sealed record StartRunRequest(string? Name, System.Text.Json.JsonElement Config);

/// <summary>A stored checkpoint as the API lists it.</summary>
public sealed record CheckpointInfo(string Kind, int Epoch, long Bytes, DateTime SavedAt);

/// <summary>
/// Runs over HTTP: any signed-in user (cookie or API token) reads; operators start, pause, resume, stop and delete.
/// Refusals are ProblemDetails (<see cref="ApiProblem"/>). Other origins' pages cannot post these with a user's
/// cookie (<see cref="CrossSiteRequestGuard"/>).
/// </summary>
public static class RunEndpoints
{
    /// <summary>Maps /api/runs/...</summary>
    public static IEndpointRouteBuilder MapRunEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/runs").RequireAuthorization().WithTags("Runs");
        api.MapGet("/", (IRunStore runs) => Results.Ok(runs.List().Select(RunInfo.From).ToList()))
            .WithSummary("Every run, newest first").Produces<IReadOnlyList<RunInfo>>();
        api.MapGet("/{id}", (string id, IRunStore runs) => runs.Get(id) is { } r ? Results.Ok(RunInfo.From(r)) : NoRun(id))
            .WithSummary("One run: status, epoch, step, losses, Dice").Produces<RunInfo>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/metrics", Metrics)
            .WithSummary("A page of the run's metric points (kind=step|epoch, afterSeq, limit), or the step series downsampled (points=N)")
            .Produces<HistoryPage<MetricPointInfo>>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/events", Events)
            .WithSummary("A page of the run's events (afterSeq, limit)")
            .Produces<HistoryPage<RunEventInfo>>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/checkpoints", (string id, IRunStore runs, IRunCheckpointStore checkpoints) =>
            runs.Get(id) is null ? NoRun(id) : Results.Ok(checkpoints.List(id).Select(c => new CheckpointInfo(c.Kind, c.Epoch, c.Bytes, c.SavedAt)).ToList()))
            .WithSummary("The run's stored checkpoints (last, best)").Produces<IReadOnlyList<CheckpointInfo>>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/checkpoints/{kind}", (string id, string kind, IRunCheckpointStore store) =>
        {
            if (kind is not ("last" or "best")) return ApiProblem.NotFound($"checkpoint kind '{kind}' does not exist; use last or best");
            // One lookup for the bytes and their epoch; the bytes stay readable while a save replaces them.
            return store.Open(id, kind) is { } open
                ? Results.File(open.Stream, "application/octet-stream", $"{id}-{kind}-epoch{open.Pointer.Epoch}.ckpt")
                : ApiProblem.NotFound($"run '{id}' has no {kind} checkpoint (yet)");
        }).WithSummary("Download a checkpoint (last or best)").Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);

        var operate = api.MapGroup("").RequireAuthorization(Roles.OperatePolicy);
        operate.MapPost("/", (StartRunRequest body, HttpContext http, RunService service) =>
        {
            try
            {
                var run = service.Start(http.User, body.Name ?? "", body.Config.GetRawText());
                return Results.Created($"/api/runs/{run.Id}", RunInfo.From(run));
            }
            catch (ArgumentException e)
            {
                // An invalid option also names its path ("Sampling.PatchSize"), so a client can point at it.
                return e is Engine.InvalidOptionException o ? ApiProblem.InvalidOption(e.Message, o.Error.Path) : ApiProblem.BadRequest(e.Message);
            }
        }).WithSummary("Queue a new run: a name (optional) and the trainer's options as JSON (what the New run form edits; omitted options keep their defaults)")
            .Produces<RunInfo>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        operate.MapPost("/{id}/pause", (string id, HttpContext http, RunService service, IRunStore runs) =>
        {
            if (runs.Get(id) is not { } run) return NoRun(id);
            if (run.Status != RunStatus.Running || !service.Pause(http.User, id))
                return ApiProblem.Conflict($"run '{id}' is {run.Status}; only a running run can be paused");
            return Results.Ok(RunInfo.From(runs.Get(id)!));
        }).WithSummary("Pause a running run after its current batch").Produces<RunInfo>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        operate.MapPost("/{id}/resume", (string id, HttpContext http, RunService service, IRunStore runs) =>
        {
            if (runs.Get(id) is not { } run) return NoRun(id);
            // One verb for "train again": a paused run continues in place; an interrupted, stopped or failed one
            // is queued to continue from its last checkpoint.
            if (run.Status == RunStatus.Paused)
                return service.Resume(http.User, id) ? Results.Ok(RunInfo.From(runs.Get(id)!)) : ApiProblem.Conflict($"run '{id}' is no longer paused");
            try
            {
                return Results.Ok(RunInfo.From(service.Continue(http.User, id)));
            }
            catch (KeyNotFoundException)
            {
                return NoRun(id);
            }
            catch (InvalidOperationException e)
            {
                return ApiProblem.Conflict(e.Message);
            }
        }).WithSummary("Resume a paused run, or continue an interrupted, stopped or failed run from its last checkpoint")
            .Produces<RunInfo>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        operate.MapPost("/{id}/stop", (string id, HttpContext http, RunService service, IRunStore runs) =>
        {
            if (runs.Get(id) is not { } run) return NoRun(id);
            return service.Stop(http.User, id) ? Results.NoContent()
                : ApiProblem.Conflict($"run '{id}' is {run.Status}; only a queued, running or paused run can be stopped");
        }).WithSummary("Stop a running or paused run after its current batch, or cancel a queued one")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        operate.MapDelete("/{id}", (string id, HttpContext http, RunService service) =>
        {
            try
            {
                return service.Delete(http.User, id) ? Results.NoContent() : NoRun(id);
            }
            catch (InvalidOperationException e)
            {
                return ApiProblem.Conflict(e.Message);
            }
        }).WithSummary("Delete a run that is not training, with its history and checkpoints")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static IResult NoRun(string id) => ApiProblem.NotFound($"no run '{id}': list the runs with GET /api/runs");

    /// <summary>Page size when the request names none.</summary>
    public const int DefaultPageSize = 1000;

    /// <summary>Fewest and most points a downsampled step series may ask for.</summary>
    public const int MinPoints = 16, MaxPoints = RunHistory.MaxPageSize;

    // GET /api/runs/{id}/metrics?kind=step|epoch&afterSeq=S&limit=L, or ?points=N for the step series downsampled.
    private static IResult Metrics(string id, string? kind, long? afterSeq, int? limit, int? points, IRunStore runs, IMetricStore metrics)
    {
        if (runs.Get(id) is null) return NoRun(id);
        MetricKind? k = null;
        if (kind is not null)
        {
            if (!Enum.TryParse<MetricKind>(kind, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
                return Error($"kind '{kind}' is not a metric kind; use step or epoch");
            k = parsed;
        }
        if (points is { } n)
        {
            if (afterSeq is not null || limit is not null) return Error("points returns the whole step series at once; leave out afterSeq and limit");
            if (k == MetricKind.Epoch) return Error("points downsamples the step series; leave out kind=epoch (epoch points are read in pages)");
            if (n is < MinPoints or > MaxPoints) return Error($"points is {n}; ask for {MinPoints} to {MaxPoints}");
            return Results.Ok(new HistoryPage<MetricPointInfo>(StepSeries(metrics, id, n).Select(MetricPointInfo.From).ToList(), null));
        }
        if (PageError(afterSeq, limit) is { } error) return error;
        var page = metrics.MetricsAfter(id, afterSeq ?? 0, limit ?? DefaultPageSize, k);
        return Results.Ok(HistoryPage<MetricPointInfo>.Of(page, m => m.Seq, MetricPointInfo.From));
    }

    // GET /api/runs/{id}/events?afterSeq=S&limit=L
    private static IResult Events(string id, long? afterSeq, int? limit, IRunStore runs, IRunEventStore events)
    {
        if (runs.Get(id) is null) return NoRun(id);
        if (PageError(afterSeq, limit) is { } error) return error;
        var page = events.EventsAfter(id, afterSeq ?? 0, limit ?? DefaultPageSize);
        return Results.Ok(HistoryPage<RunEventInfo>.Of(page, e => e.Seq, RunEventInfo.From));
    }

    /// <summary>
    /// A run's step points reduced to at most <paramref name="points"/> the way a run page holds
    /// them (<see cref="BoundedSeries{T}"/>: the newest quarter exact, older ones the lowest and
    /// highest loss of equal step ranges), read a page at a time.
    /// </summary>
    internal static IReadOnlyList<MetricPointRecord> StepSeries(IMetricStore runs, string id, int points)
    {
        var series = new BoundedSeries<MetricPointRecord>(m => m.GlobalStep, m => m.Loss, points, points / 4);
        var after = 0L;
        SeqPage<MetricPointRecord> page;
        do
        {
            page = runs.MetricsAfter(id, after, RunHistory.MaxPageSize, MetricKind.Step);
            foreach (var m in page.Items) series.Add(m);
            if (page.Items.Count > 0) after = page.Items[^1].Seq;
        }
        while (page.More);
        return series.Points;
    }

    private static IResult? PageError(long? afterSeq, int? limit)
    {
        if (afterSeq is < 0) return Error($"afterSeq is {afterSeq}; it must be 0 or more (the seq of the last item you have)");
        if (limit is < 1 or > RunHistory.MaxPageSize) return Error($"limit is {limit}; ask for 1 to {RunHistory.MaxPageSize} items");
        return null;
    }

    private static IResult Error(string message) => ApiProblem.BadRequest(message);
}

/// <summary>
/// A page of a run's history, oldest first. <see cref="Next"/> is the value to pass as
/// <c>afterSeq</c> for the following page, or null when this page is the last.
/// </summary>
public sealed record HistoryPage<T>(IReadOnlyList<T> Items, long? Next)
{
    internal static HistoryPage<T> Of<TStored>(SeqPage<TStored> page, Func<TStored, long> seq, Func<TStored, T> contract) =>
        new(page.Items.Select(contract).ToList(), page.More ? seq(page.Items[^1]) : null);
}
