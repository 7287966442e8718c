using MedZoo.Web.Accounts;
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
        api.MapGet("/{id}/metrics", (string id, RunRepository runs) =>
            runs.Get(id) is null ? Results.NotFound() : Results.Ok(runs.Metrics(id)));
        api.MapGet("/{id}/events", (string id, RunRepository runs) =>
            runs.Get(id) is null ? Results.NotFound() : Results.Ok(runs.Events(id)));
        api.MapGet("/{id}/checkpoints/{kind}", (string id, string kind, LiteDbCheckpointStore store) =>
        {
            if (kind is not ("last" or "best")) return Results.NotFound();
            var pointer = store.Find(id, kind);
            var stream = pointer is null ? null : store.OpenRead(id, kind);
            return stream is null
                ? Results.NotFound()
                : Results.File(stream, "application/octet-stream", $"{id}-{kind}-epoch{pointer!.Epoch}.ckpt");
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
                return Results.BadRequest(new { error = e.Message });
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
}
