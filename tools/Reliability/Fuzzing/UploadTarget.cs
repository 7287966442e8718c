using System.Security.Claims;
using System.Text;
using MedZoo.Engine.IO;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using MedZoo.Web.Reviews;
using MedZoo.Web.Settings;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace MedZoo.Reliability.Fuzzing;

/// <summary>
/// Multipart uploads (fields images, label, name) through the handler of <c>POST /api/uploads</c>
/// (<see cref="ReviewEndpoints.UploadAsync"/>: ASP.NET Core's form reader under the upload limit, then the real
/// <see cref="UploadService"/> on a real store), as an operator. Mutated: the whole body (boundaries, part headers),
/// or one of the files before the body is built. The contract: 201, or 400 with a message; an exception (a 500) or
/// any other answer is a crash.
/// </summary>
public sealed class UploadTarget : FuzzTarget
{
    private const string Boundary = "----medzoo-fuzz-boundary";
    private static readonly ClaimsPrincipal Operator = UserService.CreatePrincipal(new UserRecord { UserName = "fuzzer", Role = Roles.Operator });
    private readonly List<FuzzInput> _seeds = [];
    private readonly MedZooDatabase _database;
    private readonly UploadService _service;
    private readonly ReviewOptions _options = new();

    public UploadTarget(string workDirectory) : base(workDirectory)
    {
        var data = Options.Create(new DataOptions { DataDirectory = Path.Combine(workDirectory, "data") });
        _database = new MedZooDatabase(data);
        _service = new UploadService(new ReviewRepository(_database), new LocalReviewFiles(new ReviewStorage(data)), Options.Create(_options), TimeProvider.System);
        var folder = Path.Combine(workDirectory, "seeds");
        Directory.CreateDirectory(folder);
        var image = Volume.FromArray(Enumerable.Range(0, 6 * 6 * 6).Select(i => (float)i).ToArray(), [6, 6, 6]);
        var label = Volume.FromArray(Enumerable.Range(0, 6 * 6 * 6).Select(i => (byte)(i % 3)).ToArray(), [6, 6, 6]);
        VolumeIO.Write(image, Path.Combine(folder, "t1.nii.gz"));
        VolumeIO.Write(label, Path.Combine(folder, "seg.nii"));
        VolumeIO.Write(image, Path.Combine(folder, "t2.mha"));
        var t1 = File.ReadAllBytes(Path.Combine(folder, "t1.nii.gz"));
        var seg = File.ReadAllBytes(Path.Combine(folder, "seg.nii"));
        var t2 = File.ReadAllBytes(Path.Combine(folder, "t2.mha"));
        _seeds.Add(new FuzzInput([new("images:t1.nii.gz", t1), new("label:seg.nii", seg)]));
        _seeds.Add(new FuzzInput([new("images:t1.nii.gz", t1), new("images:t2.mha", t2), new("label:seg.nii", seg)]));
        foreach (var s in _seeds)
            if (Run(s, "") is { Outcome: not FuzzOutcome.Accepted } v) throw new InvalidOperationException($"seed upload refused: {v.Detail}");
    }

    public override string Kind => "upload";

    public override string Description => "multipart bodies through ReviewEndpoints.UploadAsync, the handler of POST /api/uploads (ASP.NET Core's form reader, then UploadService on a real store)";

    public override IReadOnlyList<FuzzInput> Seeds => _seeds;

    /// <summary>The multipart body of an input (parts in order; "body:" holds a body mutated as a whole).</summary>
    public static byte[] Body(FuzzInput input)
    {
        if (input.Files[0].Key == "body:") return input.Files[0].Value;
        var ms = new MemoryStream();
        void Text(string s) => ms.Write(Encoding.UTF8.GetBytes(s));
        Text($"--{Boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nfuzz\r\n");
        foreach (var (key, bytes) in input.Files)
        {
            var (field, file) = (key[..key.IndexOf(':')], key[(key.IndexOf(':') + 1)..]);
            Text($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n");
            ms.Write(bytes);
            Text("\r\n");
        }
        Text($"--{Boundary}--\r\n");
        return ms.ToArray();
    }

    public override FuzzInput Mutate(FuzzInput seed, Mutator mutator)
    {
        if (mutator.Random.Next(3) == 0) return FuzzInput.Of("body:", mutator.MutateBytes(Body(seed), 400));
        var i = mutator.Random.Next(seed.Files.Count);
        var bytes = seed.Files[i].Value;
        var key = seed.Files[i].Key;
        var mutated = key.EndsWith(".gz", StringComparison.Ordinal) && mutator.Random.Next(2) == 0
            ? VolumeTarget.Deflate(mutator.MutateBytes(VolumeTarget.Inflate(bytes), 348))
            : key.EndsWith(".mha", StringComparison.Ordinal) && mutator.Random.Next(2) == 0
                ? Encoding.ASCII.GetBytes(mutator.MutateText(Encoding.ASCII.GetString(bytes)))
                : mutator.MutateBytes(bytes, 348);
        return seed.With(i, mutated);
    }

    public override FuzzVerdict Run(FuzzInput input, string folder)
    {
        var body = Body(input);
        var http = new DefaultHttpContext();
        http.Request.Method = "POST";
        http.Request.ContentType = $"multipart/form-data; boundary={Boundary}";
        http.Request.ContentLength = body.Length;
        http.Request.Body = new MemoryStream(body, writable: false);
        http.User = Operator;
        var result = ReviewEndpoints.UploadAsync(http, _service, _options, CancellationToken.None).GetAwaiter().GetResult();
        var status = (result as IStatusCodeHttpResult)?.StatusCode;
        var value = (result as IValueHttpResult)?.Value;
        if (status == StatusCodes.Status201Created && value is UploadInfo doc)
        {
            _service.Remove(Operator, doc.Id);
            return FuzzVerdict.Accepted;
        }
        var error = (value as Microsoft.AspNetCore.Mvc.ProblemDetails)?.Detail ?? "";
        if (status == StatusCodes.Status400BadRequest)
            return new FuzzVerdict(error.Length > 10 ? FuzzOutcome.Refused : FuzzOutcome.RefusedUnclear, error);
        throw new InvalidOperationException($"POST /api/uploads answered {status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? result.GetType().Name}, expected 201 or 400");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _database.Dispose();
    }
}
