using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;

namespace MedZoo.Web.Runs;

/// <summary>
/// Read access to runs over HTTP (any signed-in user) and the few operator actions scripts need.
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
            // One lookup for the bytes and their epoch; the bytes stay readable while a save replaces them.
            return store.Open(id, kind) is { } open
                ? Results.File(open.Stream, "application/octet-stream", $"{id}-{kind}-epoch{open.Pointer.Epoch}.ckpt")
                : Results.NotFound();
        });
        api.MapPost("/{id}/stop", (string id, HttpContext http, RunService service) =>
            service.Stop(http.User, id) ? Results.NoContent() : Results.NotFound())
            .RequireAuthorization(Roles.OperatePolicy);
        return app;
    }
}
