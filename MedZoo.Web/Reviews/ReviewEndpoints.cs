using MedZoo.Engine.IO;
using MedZoo.Web.Accounts;
using MedZoo.Web.Imaging;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

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

    public static IEndpointRouteBuilder MapReviewEndpoints(this IEndpointRouteBuilder app)
    {
        var reviews = app.MapGroup("/api/reviews").RequireAuthorization();
        reviews.MapGet("/", (ReviewRepository repo) => Results.Ok(repo.List()));
        reviews.MapGet("/{id}", (string id, ReviewRepository repo) => repo.Get(id) is { } r ? Results.Ok(r) : Results.NotFound());
        reviews.MapGet("/{id}/prediction.nii.gz", (string id, ReviewRepository repo, ReviewStorage storage) =>
            Download(repo, storage, id, "prediction.nii.gz", "application/gzip", r => $"{Stem(r)}-prediction.nii.gz"));
        reviews.MapGet("/{id}/input.nii.gz", (string id, ReviewRepository repo, ReviewStorage storage) =>
            Download(repo, storage, id, "input.nii.gz", "application/gzip", r => $"{Stem(r)}-input.nii.gz"));
        reviews.MapGet("/{id}/metrics.csv", (string id, ReviewRepository repo, ReviewStorage storage) =>
            Download(repo, storage, id, "metrics.csv", "text/csv", r => $"{Stem(r)}-metrics.csv"));
        reviews.MapGet("/{id}/probabilities.nii.gz", (string id, ReviewRepository repo, ReviewStorage storage) =>
            DownloadMap(repo, storage, id, entropy: false));
        reviews.MapGet("/{id}/entropy.nii.gz", (string id, ReviewRepository repo, ReviewStorage storage) =>
            DownloadMap(repo, storage, id, entropy: true));
        reviews.MapGet("/{id}/data/{name}", (string id, string name, ReviewRepository repo, ReviewStorage storage) =>
            IsDisplayFile(name) ? Download(repo, storage, id, name, "application/octet-stream", null) : Results.NotFound());
        reviews.MapPost("/", (StartReviewRequest body, HttpContext http, ReviewService service) =>
        {
            try
            {
                var r = service.Start(http.User, body.RunId, body.Checkpoint, body.Source, body.SubjectId, body.TestTimeAugmentation);
                return Results.Created($"/api/reviews/{r.Id}", r);
            }
            catch (ArgumentException e)
            {
                return Results.BadRequest(new { error = e.Message });
            }
        }).RequireAuthorization(Roles.OperatePolicy);
        reviews.MapDelete("/{id}", (string id, HttpContext http, ReviewService service) =>
            service.Delete(http.User, id) ? Results.NoContent() : Results.NotFound()).RequireAuthorization(Roles.OperatePolicy);

        var uploads = app.MapGroup("/api/uploads").RequireAuthorization();
        uploads.MapGet("/", (ReviewRepository repo) => Results.Ok(repo.Uploads()));
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
            return Results.Created($"/api/uploads/{doc.Id}", doc);
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

    private static string Stem(ReviewDocument r) => $"{r.RunName}-{r.CheckpointKind}-{r.SubjectName}".Replace(' ', '_').Replace('/', '_').Replace('(', '_').Replace(')', '_');

    /// <summary>
    /// The class probabilities (x, y, z, classes) or their entropy (x, y, z, nats) as float32 NIfTI on
    /// the input's grid, made from the stored bytes into a temporary file that is deleted once sent.
    /// Its peak memory, about 5 bytes per class and voxel (the stored maps and the float32 volume), is
    /// well under what the review itself was admitted with (<see cref="ReviewWorker.EstimateBytes"/>).
    /// </summary>
    private static IResult DownloadMap(ReviewRepository repo, ReviewStorage storage, string id, bool entropy)
    {
        var review = repo.Get(id);
        if (review is null || review.Status != ReviewStatus.Completed || !review.HasProbabilities) return Results.NotFound();
        string[] files = [.. entropy ? ["entropy.u8"] : Enumerable.Range(0, review.ClassNames.Count).Select(c => $"probability-{c}.u8"), "prediction.nii.gz"];
        if (files.Any(f => !File.Exists(storage.ReviewFile(id, f)))) return Results.NotFound();
        var geometry = VolumeIO.ReadHeader(storage.ReviewFile(id, "prediction.nii.gz")).Geometry;
        var volume = entropy
            ? ProbabilityMaps.EntropyVolume(File.ReadAllBytes(storage.ReviewFile(id, "entropy.u8")), review.ClassNames.Count, review.Shape, geometry)
            : ProbabilityMaps.ProbabilityVolume(Enumerable.Range(0, review.ClassNames.Count)
                .Select(c => File.ReadAllBytes(storage.ReviewFile(id, $"probability-{c}.u8"))).ToList(), review.Shape, geometry);
        var temp = storage.ReviewFile(id, $"download-{Guid.NewGuid():N}.nii.gz");
        VolumeIO.Write(volume, temp, ReviewWorker.WriteOptions(geometry));
        var stream = new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.DeleteOnClose);
        return Results.File(stream, "application/gzip", $"{Stem(review)}-{(entropy ? "entropy" : "probabilities")}.nii.gz");
    }

    private static IResult Download(ReviewRepository repo, ReviewStorage storage, string id, string file, string type, Func<ReviewDocument, string>? name)
    {
        var review = repo.Get(id);
        if (review is null || review.Status != ReviewStatus.Completed) return Results.NotFound();
        var path = storage.ReviewFile(id, file);
        if (!File.Exists(path)) return Results.NotFound();
        return name is null ? Results.File(path, type) : Results.File(path, type, name(review));
    }
}
