using MedZoo.Engine.Data;
using MedZoo.Engine.IO;
using MedZoo.Web.Accounts;
using MedZoo.Web.Api;
using MedZoo.Web.Imaging;
using MedZoo.Web.Runs;
using MedZoo.Web.Settings;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace MedZoo.Web.Reviews;

/// <summary>Body of POST /api/reviews; <paramref name="TestTimeAugmentation"/> predicts with mirroring (8 passes per window).</summary>
public sealed record StartReviewRequest(string RunId, string Checkpoint, ReviewSource Source, string SubjectId, bool TestTimeAugmentation = false);

/// <summary>
/// Reviews and uploads over HTTP: any signed-in user reads (the review page fetches its display
/// volumes here once, then draws every slice in the browser; downloads of the prediction and the
/// metrics CSV); operators start, delete and upload (enforced by policy here and again by the services).
/// </summary>
public static class ReviewEndpoints
{
    /// <summary>Display files the browser may fetch.</summary>
    public static bool IsDisplayFile(string name) =>
        name is "prediction.u8" or "truth.u8" or "entropy.u8" || Indexed(name, "image-", ".u16") || Indexed(name, "probability-", ".u8");

    /// <summary>"image-3.u16": a prefix, a non-negative number in plain digits, a suffix.</summary>
    private static bool Indexed(string name, string prefix, string suffix) =>
        name.Length > prefix.Length + suffix.Length && name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(suffix, StringComparison.Ordinal)
        && name.AsSpan(prefix.Length, name.Length - prefix.Length - suffix.Length) is var digits && digits.Length <= 3
        && digits.IndexOfAnyExceptInRange('0', '9') < 0;

    /// <summary>Maps /api/reviews/..., /api/uploads/... and the run's validation subjects (what a review can predict).</summary>
    public static IEndpointRouteBuilder MapReviewEndpoints(this IEndpointRouteBuilder app)
    {
        var reviews = app.MapGroup("/api/reviews").RequireAuthorization().WithTags("Reviews");
        reviews.MapGet("/", (IReviewStore repo) => Results.Ok(repo.List().Select(ReviewInfo.From).ToList()))
            .WithSummary("Every review, newest first").Produces<IReadOnlyList<ReviewInfo>>();
        reviews.MapGet("/{id}", (string id, IReviewStore repo) => repo.Get(id) is { } r ? Results.Ok(ReviewInfo.From(r)) : NoReview(id))
            .WithSummary("One review: status, windows done, metrics when completed").Produces<ReviewInfo>().ProducesProblem(StatusCodes.Status404NotFound);
        reviews.MapGet("/{id}/prediction.nii.gz", (string id, IReviewStore repo, IReviewFiles files) =>
            Download(repo, files, id, "prediction.nii.gz", "application/gzip", r => $"{Stem(r)}-prediction.nii.gz"))
            .WithSummary("The predicted label volume (NIfTI, the input's geometry)").Produces(StatusCodes.Status200OK, contentType: "application/gzip")
            .ProducesProblem(StatusCodes.Status404NotFound);
        reviews.MapGet("/{id}/input.nii.gz", (string id, IReviewStore repo, IReviewFiles files) =>
            Download(repo, files, id, "input.nii.gz", "application/gzip", r => $"{Stem(r)}-input.nii.gz"))
            .WithSummary("The input volume of a validation subject (NIfTI)").Produces(StatusCodes.Status200OK, contentType: "application/gzip")
            .ProducesProblem(StatusCodes.Status404NotFound);
        reviews.MapGet("/{id}/metrics.csv", (string id, IReviewStore repo, IReviewFiles files) =>
            Download(repo, files, id, "metrics.csv", "text/csv", r => $"{Stem(r)}-metrics.csv"))
            .WithSummary("Per-class metrics as CSV").Produces(StatusCodes.Status200OK, contentType: "text/csv").ProducesProblem(StatusCodes.Status404NotFound);
        reviews.MapGet("/{id}/data/{name}", (string id, string name, IReviewStore repo, IReviewFiles files) =>
            IsDisplayFile(name) ? Download(repo, files, id, name, "application/octet-stream", null) : ApiProblem.NotFound($"'{name}' is not a display file of a review"))
            .ExcludeFromDescription(); // the viewer's own raw display volumes, not part of the automation API
        reviews.MapGet("/{id}/probabilities.nii.gz", (string id, HttpContext http, IReviewStore repo, IReviewFiles files) => DownloadMap(http, repo, files, id, entropy: false))
            .WithSummary("The per-class probabilities (float32 NIfTI, x, y, z, classes, the input's geometry)").Produces(StatusCodes.Status200OK, contentType: "application/gzip")
            .ProducesProblem(StatusCodes.Status404NotFound);
        reviews.MapGet("/{id}/entropy.nii.gz", (string id, HttpContext http, IReviewStore repo, IReviewFiles files) => DownloadMap(http, repo, files, id, entropy: true))
            .WithSummary("The entropy of the class probabilities in nats (float32 NIfTI, the input's geometry)").Produces(StatusCodes.Status200OK, contentType: "application/gzip")
            .ProducesProblem(StatusCodes.Status404NotFound);
        reviews.MapPost("/", (StartReviewRequest body, HttpContext http, ReviewService service) =>
        {
            try
            {
                var r = service.Start(http.User, body.RunId, body.Checkpoint, body.Source, body.SubjectId, body.TestTimeAugmentation);
                return Results.Created($"/api/reviews/{r.Id}", ReviewInfo.From(r));
            }
            catch (ArgumentException e)
            {
                return ApiProblem.BadRequest(e.Message);
            }
        }).RequireAuthorization(Roles.OperatePolicy)
            .WithSummary("Queue a review: predict a validation subject (source Validation, subjectId from /api/runs/{id}/validation-subjects) or an upload (source Upload, subjectId = upload id) with the run's best or last checkpoint")
            .Produces<ReviewInfo>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        reviews.MapPost("/{id}/rerun", (string id, HttpContext http, ReviewService service) =>
        {
            try
            {
                return Results.Ok(ReviewInfo.From(service.Rerun(http.User, id)));
            }
            catch (ArgumentException)
            {
                return NoReview(id);
            }
            catch (InvalidOperationException e)
            {
                return ApiProblem.Conflict(e.Message);
            }
        }).RequireAuthorization(Roles.OperatePolicy).WithSummary("Queue an interrupted or failed review again")
            .Produces<ReviewInfo>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        reviews.MapDelete("/{id}", (string id, HttpContext http, ReviewService service) =>
            service.Delete(http.User, id) ? Results.NoContent() : NoReview(id)).RequireAuthorization(Roles.OperatePolicy)
            .WithSummary("Delete a review and its files").Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        // Registered here, not with the run endpoints: the validation split is what reviews read (Runs must not depend on Reviews).
        app.MapGet("/api/runs/{id}/validation-subjects", (string id, IRunStore runs) =>
        {
            if (runs.Get(id) is not { } run) return ApiProblem.NotFound($"no run '{id}': list the runs with GET /api/runs");
            try
            {
                return Results.Ok(ReviewService.ValidationSubjects(run));
            }
            catch (DatasetException e)
            {
                return ApiProblem.Conflict(e.Message);
            }
        }).RequireAuthorization().WithTags("Runs")
            .WithSummary("Ids of the run's held-out validation subjects (what POST /api/reviews takes as subjectId with source Validation)")
            .Produces<IReadOnlyList<string>>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        var uploads = app.MapGroup("/api/uploads").RequireAuthorization().WithTags("Uploads");
        uploads.MapGet("/", (IReviewStore repo) => Results.Ok(repo.Uploads().Select(UploadInfo.From).ToList()))
            .WithSummary("Every uploaded subject").Produces<IReadOnlyList<UploadInfo>>();
        // Multipart: fields "images" (one or more files), "label" (optional), "name" (optional). Other origins'
        // pages cannot post it with a user's cookie (CrossSiteRequestGuard), hence no antiforgery token.
        uploads.MapPost("/", (HttpContext http, UploadService service, IOptions<ReviewOptions> options, CancellationToken ct) =>
            UploadAsync(http, service, options.Value, ct)
        ).RequireAuthorization(Roles.OperatePolicy).DisableAntiforgery()
            .WithSummary("Upload a subject to review: multipart/form-data with 'images' (one file per modality, or one multi-channel file), optional 'label' and 'name'")
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // Described here, not with Accepts(): accepts-metadata makes routing answer 415 to other bodies before
                // authorization runs, and a viewer must get 403 whatever they send.
                operation.RequestBody = UploadForm;
                return Task.CompletedTask;
            })
            .Produces<UploadInfo>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        uploads.MapDelete("/{id}", (string id, HttpContext http, UploadService service) =>
            service.Remove(http.User, id) ? Results.NoContent() : ApiProblem.NotFound($"no upload '{id}'")).RequireAuthorization(Roles.OperatePolicy)
            .WithSummary("Remove an upload").Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    // The multipart form of POST /api/uploads as OpenAPI describes it.
    private static readonly OpenApiRequestBody UploadForm = new()
    {
        Required = true,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["multipart/form-data"] = new()
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "images" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["images"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                            Description = "One file per modality in the checkpoint's order, or one multi-channel file (NIfTI, Analyze, MetaImage)",
                        },
                        ["label"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "Optional ground truth on the same grid" },
                        ["name"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Optional display name" },
                    },
                },
            },
        },
    };

    /// <summary>
    /// POST /api/uploads: reads the multipart form under the upload limit and stores it (201), or answers 400 with
    /// the reason. Public so that the reliability harness (tools/Reliability) feeds hostile bodies to exactly this code.
    /// </summary>
    public static async Task<IResult> UploadAsync(HttpContext http, UploadService service, ReviewOptions options, CancellationToken ct)
    {
        var limit = options.MaxUploadBytes;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = limit + 1024 * 1024; // the form's own bytes on top of the files
        if (http.Request.ContentLength > limit + 1024 * 1024)
            return ApiProblem.BadRequest($"the upload is larger than the limit of {ByteSize.Format(limit)}");
        if (!http.Request.HasFormContentType)
            return ApiProblem.BadRequest("post the files as multipart/form-data (fields: images, label, name)");
        try
        {
            var form = await new FormFeature(http.Request, new FormOptions { MultipartBodyLengthLimit = limit + 1024 * 1024 }).ReadFormAsync(ct);
            var images = form.Files.GetFiles("images").Select(f => new IncomingFile(f.FileName, f.OpenReadStream)).ToList();
            var label = form.Files.GetFiles("label").Select(f => new IncomingFile(f.FileName, f.OpenReadStream)).ToList();
            var doc = await service.StoreAsync(http.User, form["name"].ToString(), images, label, ct);
            return Results.Created($"/api/uploads/{doc.Id}", UploadInfo.From(doc));
        }
        catch (UploadRejectedException e)
        {
            return ApiProblem.BadRequest(e.Message);
        }
        catch (InvalidDataException e)
        {
            return ApiProblem.BadRequest($"the form cannot be read: {e.Message}");
        }
        catch (IOException e) when (!ct.IsCancellationRequested)
        {
            // A body that ends inside the form, or one over the size limit (BadHttpRequestException): the client's error, not a 500.
            return ApiProblem.BadRequest($"the form cannot be read (it ends early or is too large): {e.Message}");
        }
    }

    private static IResult NoReview(string id) => ApiProblem.NotFound($"no review '{id}': list the reviews with GET /api/reviews");

    private static string Stem(ReviewRecord r) => $"{r.RunName}-{r.CheckpointKind}-{r.SubjectName}".Replace(' ', '_').Replace('/', '_').Replace('(', '_').Replace(')', '_');

    /// <summary>
    /// The class probabilities (x, y, z, classes) or their entropy (x, y, z, nats) as float32 NIfTI on
    /// the input's grid, made from the stored bytes into a temporary file that is deleted once sent (in the folder the
    /// stored files were fetched into, which lives as long as the response).
    /// Its peak memory, about 5 bytes per class and voxel (the stored maps and the float32 volume), is
    /// well under what the review itself was admitted with (<see cref="ReviewRunner.EstimateBytes"/>).
    /// </summary>
    private static IResult DownloadMap(HttpContext http, IReviewStore repo, IReviewFiles files, string id, bool entropy)
    {
        var review = repo.Get(id);
        if (review is null) return NoReview(id);
        if (review.Status != ReviewStatus.Completed || !review.HasProbabilities)
            return ApiProblem.NotFound($"review '{id}' has no probability maps (it is {review.Status}; reviews started before probability maps existed have none)");
        string[] names = [.. entropy ? ["entropy.u8"] : Enumerable.Range(0, review.ClassNames.Count).Select(c => $"probability-{c}.u8"), "prediction.nii.gz"];
        if (names.Any(f => !files.Exists(ReviewFileArea.Reviews, id, f))) return ApiProblem.NotFound($"review '{id}' has lost its probability files");
        var local = files.Fetch(ReviewFileArea.Reviews, id, names);
        http.Response.RegisterForDispose(local);
        var geometry = VolumeIO.ReadHeader(local.File("prediction.nii.gz")).Geometry;
        var volume = entropy
            ? ProbabilityMaps.EntropyVolume(File.ReadAllBytes(local.File("entropy.u8")), review.ClassNames.Count, review.Shape, geometry)
            : ProbabilityMaps.ProbabilityVolume(Enumerable.Range(0, review.ClassNames.Count)
                .Select(c => File.ReadAllBytes(local.File($"probability-{c}.u8"))).ToList(), review.Shape, geometry);
        var temp = local.File($"download-{Guid.NewGuid():N}.nii.gz");
        VolumeIO.Write(volume, temp, ReviewRunner.WriteOptions(geometry));
        var stream = new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.DeleteOnClose);
        return Results.File(stream, "application/gzip", $"{Stem(review)}-{(entropy ? "entropy" : "probabilities")}.nii.gz");
    }

    private static IResult Download(IReviewStore repo, IReviewFiles files, string id, string file, string type, Func<ReviewRecord, string>? name)
    {
        var review = repo.Get(id);
        if (review is null) return NoReview(id);
        if (review.Status != ReviewStatus.Completed)
            return ApiProblem.NotFound($"review '{id}' is {review.Status}; its files exist once it is Completed");
        var stream = files.OpenRead(ReviewFileArea.Reviews, id, file);
        if (stream is null) return ApiProblem.NotFound($"review '{id}' has no {file}");
        return Results.File(stream, type, name?.Invoke(review));
    }
}
