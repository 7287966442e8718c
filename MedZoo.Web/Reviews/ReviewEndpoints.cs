using MedZoo.Web.Accounts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Reviews;

/// <summary>Body of POST /api/reviews.</summary>
public sealed record StartReviewRequest(string RunId, string Checkpoint, ReviewSource Source, string SubjectId);

/// <summary>
/// Reviews and uploads over HTTP: any signed-in user reads (the review page fetches its display
/// volumes here once, then draws every slice in the browser; downloads of the prediction and the
/// metrics CSV); operators start, delete and upload (enforced by policy here and again by the services).
/// </summary>
public static class ReviewEndpoints
{
    /// <summary>Display files the browser may fetch.</summary>
    public static bool IsDisplayFile(string name) =>
        name is "prediction.u8" or "truth.u8" || (name.StartsWith("image-", StringComparison.Ordinal) && name.EndsWith(".u16", StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(6, name.Length - 10), out var c) && c >= 0);

    public static IEndpointRouteBuilder MapReviewEndpoints(this IEndpointRouteBuilder app)
    {
        var reviews = app.MapGroup("/api/reviews").RequireAuthorization();
        reviews.MapGet("/", (IReviewStore repo) => Results.Ok(repo.List().Select(ReviewInfo.From).ToList()));
        reviews.MapGet("/{id}", (string id, IReviewStore repo) => repo.Get(id) is { } r ? Results.Ok(ReviewInfo.From(r)) : Results.NotFound());
        reviews.MapGet("/{id}/prediction.nii.gz", (string id, IReviewStore repo, ReviewStorage storage) =>
            Download(repo, storage, id, "prediction.nii.gz", "application/gzip", r => $"{Stem(r)}-prediction.nii.gz"));
        reviews.MapGet("/{id}/input.nii.gz", (string id, IReviewStore repo, ReviewStorage storage) =>
            Download(repo, storage, id, "input.nii.gz", "application/gzip", r => $"{Stem(r)}-input.nii.gz"));
        reviews.MapGet("/{id}/metrics.csv", (string id, IReviewStore repo, ReviewStorage storage) =>
            Download(repo, storage, id, "metrics.csv", "text/csv", r => $"{Stem(r)}-metrics.csv"));
        reviews.MapGet("/{id}/data/{name}", (string id, string name, IReviewStore repo, ReviewStorage storage) =>
            IsDisplayFile(name) ? Download(repo, storage, id, name, "application/octet-stream", null) : Results.NotFound());
        reviews.MapPost("/", (StartReviewRequest body, HttpContext http, ReviewService service) =>
        {
            try
            {
                var r = service.Start(http.User, body.RunId, body.Checkpoint, body.Source, body.SubjectId);
                return Results.Created($"/api/reviews/{r.Id}", ReviewInfo.From(r));
            }
            catch (ArgumentException e)
            {
                return Results.BadRequest(new { error = e.Message });
            }
        }).RequireAuthorization(Roles.OperatePolicy);
        reviews.MapDelete("/{id}", (string id, HttpContext http, ReviewService service) =>
            service.Delete(http.User, id) ? Results.NoContent() : Results.NotFound()).RequireAuthorization(Roles.OperatePolicy);

        var uploads = app.MapGroup("/api/uploads").RequireAuthorization();
        uploads.MapGet("/", (IReviewStore repo) => Results.Ok(repo.Uploads().Select(UploadInfo.From).ToList()));
        // Multipart: fields "images" (one or more files), "label" (optional), "name" (optional). The
        // auth cookie is SameSite=Strict, so another site cannot post this with a user's cookie.
        uploads.MapPost("/", (HttpContext http, UploadService service, IOptions<ReviewOptions> options, CancellationToken ct) =>
            UploadAsync(http, service, options.Value, ct)
        ).RequireAuthorization(Roles.OperatePolicy).DisableAntiforgery();
        uploads.MapDelete("/{id}", (string id, HttpContext http, UploadService service) =>
            service.Remove(http.User, id) ? Results.NoContent() : Results.NotFound()).RequireAuthorization(Roles.OperatePolicy);
        return app;
    }

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
            return Results.BadRequest(new { error = $"the upload is larger than the limit of {ReviewOptions.FormatBytes(limit)}" });
        if (!http.Request.HasFormContentType)
            return Results.BadRequest(new { error = "post the files as multipart/form-data (fields: images, label, name)" });
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
            return Results.BadRequest(new { error = e.Message });
        }
        catch (InvalidDataException e)
        {
            return Results.BadRequest(new { error = $"the form cannot be read: {e.Message}" });
        }
        catch (IOException e) when (!ct.IsCancellationRequested)
        {
            // A body that ends inside the form, or one over the size limit (BadHttpRequestException): the client's error, not a 500.
            return Results.BadRequest(new { error = $"the form cannot be read (it ends early or is too large): {e.Message}" });
        }
    }

    private static string Stem(ReviewRecord r) => $"{r.RunName}-{r.CheckpointKind}-{r.SubjectName}".Replace(' ', '_').Replace('/', '_').Replace('(', '_').Replace(')', '_');

    private static IResult Download(IReviewStore repo, ReviewStorage storage, string id, string file, string type, Func<ReviewRecord, string>? name)
    {
        var review = repo.Get(id);
        if (review is null || review.Status != ReviewStatus.Completed) return Results.NotFound();
        var path = storage.ReviewFile(id, file);
        if (!File.Exists(path)) return Results.NotFound();
        return name is null ? Results.File(path, type) : Results.File(path, type, name(review));
    }
}
