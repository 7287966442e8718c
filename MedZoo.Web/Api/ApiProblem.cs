namespace MedZoo.Web.Api;

/// <summary>
/// The API's refusals as RFC 9457 ProblemDetails (<c>application/problem+json</c>): a fixed <c>title</c> per kind of
/// refusal and a <c>detail</c> that says, in the user's words, what was wrong and what was expected.
/// </summary>
public static class ApiProblem
{
    /// <summary>400: the request itself is wrong (a bad value, a missing field).</summary>
    public static IResult BadRequest(string detail) => Results.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid");

    /// <summary>400 for one invalid option: <c>field</c> carries its path (e.g. <c>Sampling.PatchSize</c>), so a client can point at it.</summary>
    public static IResult InvalidOption(string detail, string? field) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid",
            extensions: new Dictionary<string, object?> { ["field"] = field });

    /// <summary>404: what the request names does not exist.</summary>
    public static IResult NotFound(string detail) => Results.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    /// <summary>409: the request is valid but not in the current state (e.g. pausing a finished run).</summary>
    public static IResult Conflict(string detail) => Results.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Not possible now");
}
