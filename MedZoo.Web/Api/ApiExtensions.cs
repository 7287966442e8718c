using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace MedZoo.Web.Api;

/// <summary>
/// The automation API's shared parts: ProblemDetails for every refusal under <c>/api</c>, the OpenAPI document
/// (<see cref="DocumentPath"/>) and its browsable reference (<see cref="ReferencePath"/>, Scalar, served from the
/// package: no CDN). Both need sign-in (cookie or token) like the rest of the app.
/// </summary>
public static class ApiExtensions
{
    /// <summary>The OpenAPI document.</summary>
    public const string DocumentPath = "/openapi/v1.json";

    /// <summary>The interactive API reference.</summary>
    public const string ReferencePath = "/scalar";

    private const string BearerSchemeName = "Bearer";

    /// <summary>ProblemDetails and the OpenAPI document (with the bearer-token security scheme).</summary>
    public static WebApplicationBuilder AddMedZooApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi(o =>
        {
            o.ShouldInclude = d => d.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "MedZoo automation API",
                    Version = "v1",
                    Description = "Start and control training runs, upload volumes, start reviews and download results. " +
                                  "Authenticate with a personal API token (create one on /account/tokens) as 'Authorization: Bearer <token>'. " +
                                  "Refusals are ProblemDetails whose 'detail' says what was wrong.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerSchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "MedZoo personal API token", // no reference to Accounts: Api stays a leaf that features depend on
                    Description = "A personal API token from /account/tokens. It acts with its user's current role.",
                };
                document.Security ??= [];
                document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerSchemeName, document)] = [] });
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>Status codes without a body under <c>/api</c> (401, 403, 404, 405) get a ProblemDetails body too.</summary>
    public static IApplicationBuilder UseMedZooApiProblems(this IApplicationBuilder app) =>
        app.UseWhen(ctx => ctx.Request.Path.StartsWithSegments("/api"), b => b.UseStatusCodePages());

    /// <summary>Maps the OpenAPI document and the API reference.</summary>
    public static IEndpointRouteBuilder MapMedZooApiDocs(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi();
        app.MapScalarApiReference(ReferencePath, o => o
            .WithTitle("MedZoo automation API")
            .WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .AddPreferredSecuritySchemes(BearerSchemeName)
            .DisableTelemetry()
            .DisableAgent()
            .DisableMcp());
        return app;
    }
}
