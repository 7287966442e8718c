using MedZoo.Web.Accounts;

namespace MedZoo.Web.Sweeps;

/// <summary>Sweeps over HTTP: list and read (any signed-in user), start and stop (operators).</summary>
public static class SweepEndpoints
{
    /// <summary>Maps /api/sweeps/...</summary>
    public static IEndpointRouteBuilder MapSweepEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/sweeps").RequireAuthorization();
        api.MapGet("/", (SweepService sweeps) => Results.Ok(sweeps.List()));
        api.MapGet("/{id}", (string id, SweepService sweeps) => sweeps.View(id) is { } v ? Results.Ok(v) : Results.NotFound());
        api.MapPost("/", (SweepRequest body, HttpContext http, SweepService sweeps) =>
        {
            try
            {
                var view = sweeps.Create(http.User, body);
                return Results.Created($"/api/sweeps/{view.Id}", view);
            }
            catch (ArgumentException e)
            {
                return Results.BadRequest(new { error = e.Message });
            }
        }).RequireAuthorization(Roles.OperatePolicy);
        api.MapPost("/{id}/stop", (string id, HttpContext http, SweepService sweeps) =>
            sweeps.Stop(http.User, id) ? Results.NoContent() : Results.NotFound())
            .RequireAuthorization(Roles.OperatePolicy);
        return app;
    }
}
