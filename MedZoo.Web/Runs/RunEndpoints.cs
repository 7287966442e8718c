using MedZoo.Web.Accounts;
using MedZoo.Web.Live;
using MedZoo.Web.Persistence;

namespace MedZoo.Web.Runs;

/// <summary>Body of POST /api/runs: a display name (optional) and the trainer's configuration as JSON (what the New run form edits).</summary>
public sealed record StartRunRequest(string? Name, System.Text.Json.JsonElement Config);

/// <summary>
/// Read access to runs over HTTP (any signed-in user) and the few operator actions scripts need (start, resume from
/// the last checkpoint, stop).
/// The auth cookie is SameSite=Strict, so another site cannot post these with a user's cookie.
/// </summary>
public static class RunEndpoints
{
    /// <summary>Maps /api/runs/...</summary>
    public static IEndpointRouteBuilder MapRunEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/runs").RequireAuthorization();
        api.MapGet("/", (RunRepository runs) => Results.Ok(runs.List()));
        api.MapGet("/{id}", (string id, RunRepository runs) => runs.Get(id) is { } r ? Results.Ok(r) : Results.NotFound());
        api.MapGet("/{id}/metrics", Metrics);
        api.MapGet("/{id}/events", Events);
        api.MapGet("/{id}/checkpoints/{kind}", (string id, string kind, LiteDbCheckpointStore store) =>
        {
            if (kind is not ("last" or "best")) return Results.NotFound();
            // One lookup for the bytes and their epoch; the bytes stay readable while a save replaces them.
            return store.Open(id, kind) is { } open
                ? Results.File(open.Stream, "application/octet-stream", $"{id}-{kind}-epoch{open.Pointer.Epoch}.ckpt")
                : Results.NotFound();
        });
        api.MapPost("/", (StartRunRequest body, HttpContext http, RunService service) =>
        {
            try
            {
                var run = service.Start(http.User, body.Name ?? "", body.Config.GetRawText());
                return Results.Created($"/api/runs/{run.Id}", run);
            }
            catch (ArgumentException e)
            {
                // An invalid option also names its path ("Sampling.PatchSize"), so a client can point at it.
                return Results.BadRequest(new { error = e.Message, field = (e as Engine.InvalidOptionException)?.Error.Path });
            }
        }).RequireAuthorization(Roles.OperatePolicy);
        api.MapPost("/{id}/resume", (string id, HttpContext http, RunService service) =>
        {
            try
            {
                return Results.Ok(service.Continue(http.User, id));
            }
            catch (KeyNotFoundException)
            {
                return Results.NotFound();
            }
            catch (InvalidOperationException e)
            {
                return Results.Conflict(new { error = e.Message });
            }
        }).RequireAuthorization(Roles.OperatePolicy);
        api.MapPost("/{id}/stop", (string id, HttpContext http, RunService service) =>
            service.Stop(http.User, id) ? Results.NoContent() : Results.NotFound())
            .RequireAuthorization(Roles.OperatePolicy);
        return app;
    }

    /// <summary>Page size when the request names none.</summary>
    public const int DefaultPageSize = 1000;

    /// <summary>Fewest and most points a downsampled step series may ask for.</summary>
    public const int MinPoints = 16, MaxPoints = RunRepository.MaxPageSize;

    // GET /api/runs/{id}/metrics?kind=step|epoch&afterSeq=S&limit=L, or ?points=N for the step series downsampled.
    private static IResult Metrics(string id, string? kind, long? afterSeq, int? limit, int? points, RunRepository runs)
    {
        if (runs.Get(id) is null) return Results.NotFound();
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
            return Results.Ok(new HistoryPage<MetricPointDocument>(StepSeries(runs, id, n), null));
        }
        if (PageError(afterSeq, limit) is { } error) return error;
        var page = runs.MetricsAfter(id, afterSeq ?? 0, limit ?? DefaultPageSize, k);
        return Results.Ok(HistoryPage<MetricPointDocument>.Of(page, m => m.Seq));
    }

    // GET /api/runs/{id}/events?afterSeq=S&limit=L
    private static IResult Events(string id, long? afterSeq, int? limit, RunRepository runs)
    {
        if (runs.Get(id) is null) return Results.NotFound();
        if (PageError(afterSeq, limit) is { } error) return error;
        var page = runs.EventsAfter(id, afterSeq ?? 0, limit ?? DefaultPageSize);
        return Results.Ok(HistoryPage<RunEventDocument>.Of(page, e => e.Seq));
    }

    /// <summary>
    /// A run's step points reduced to at most <paramref name="points"/> the way a run page holds
    /// them (<see cref="BoundedSeries{T}"/>: the newest quarter exact, older ones the lowest and
    /// highest loss of equal step ranges), read a page at a time.
    /// </summary>
    internal static IReadOnlyList<MetricPointDocument> StepSeries(RunRepository runs, string id, int points)
    {
        var series = new BoundedSeries<MetricPointDocument>(m => m.GlobalStep, m => m.Loss, points, points / 4);
        var after = 0L;
        SeqPage<MetricPointDocument> page;
        do
        {
            page = runs.MetricsAfter(id, after, RunRepository.MaxPageSize, MetricKind.Step);
            foreach (var m in page.Items) series.Add(m);
            if (page.Items.Count > 0) after = page.Items[^1].Seq;
        }
        while (page.More);
        return series.Points;
    }

    private static IResult? PageError(long? afterSeq, int? limit)
    {
        if (afterSeq is < 0) return Error($"afterSeq is {afterSeq}; it must be 0 or more (the seq of the last item you have)");
        if (limit is < 1 or > RunRepository.MaxPageSize) return Error($"limit is {limit}; ask for 1 to {RunRepository.MaxPageSize} items");
        return null;
    }

    private static IResult Error(string message) => Results.BadRequest(new { error = message });
}

/// <summary>
/// A page of a run's history, oldest first. <see cref="Next"/> is the value to pass as
/// <c>afterSeq</c> for the following page, or null when this page is the last.
/// </summary>
public sealed record HistoryPage<T>(IReadOnlyList<T> Items, long? Next)
{
    internal static HistoryPage<T> Of(SeqPage<T> page, Func<T, long> seq) =>
        new(page.Items, page.More ? seq(page.Items[^1]) : null);
}
