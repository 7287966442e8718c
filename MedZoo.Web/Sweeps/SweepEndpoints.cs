using MedZoo.Web.Accounts;
using MedZoo.Web.Api;

namespace MedZoo.Web.Sweeps;

/// <summary>Sweeps over HTTP: list and read (any signed-in user), start and stop (operators).</summary>
public static class SweepEndpoints
{
    /// <summary>Maps /api/sweeps/...</summary>
    public static IEndpointRouteBuilder MapSweepEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/sweeps").RequireAuthorization().WithTags("Sweeps");
        api.MapGet("/", (SweepService sweeps) => Results.Ok(sweeps.List()))
            .WithSummary("Every sweep, newest first, each with its trials ranked by best Dice").Produces<IReadOnlyList<SweepView>>();
        api.MapGet("/{id}", (string id, SweepService sweeps) => sweeps.View(id) is { } v ? Results.Ok(v) : NoSweep(id))
            .WithSummary("One sweep: its state and its trials ranked by best Dice").Produces<SweepView>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/", (SweepRequest body, HttpContext http, SweepService sweeps) =>
        {
            try
            {
                var view = sweeps.Create(http.User, body);
                return Results.Created($"/api/sweeps/{view.Id}", view);
            }
            catch (ArgumentException e)
            {
                return ApiProblem.BadRequest(e.Message);
            }
        }).RequireAuthorization(Roles.OperatePolicy)
            .WithSummary("Queue a sweep: options to vary (values, or ranges for random search), grid or random search, optional successive halving")
            .Produces<SweepView>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/{id}/stop", (string id, HttpContext http, SweepService sweeps) =>
            sweeps.Stop(http.User, id) ? Results.NoContent() : NoSweep(id))
            .RequireAuthorization(Roles.OperatePolicy)
            .WithSummary("Stop every queued or training trial of a sweep").Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static IResult NoSweep(string id) => ApiProblem.NotFound($"no sweep '{id}': list the sweeps with GET /api/sweeps");
}
