using System.Security.Claims;
using MedZoo.Engine.IO;
using MedZoo.Web.Accounts;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Reviews;

/// <summary>An upload refused, with a message for the user that names the file and the problem.</summary>
public sealed class UploadRejectedException(string message) : Exception(message);

/// <summary>One file as it arrives (from a Blazor InputFile or a multipart form).</summary>
/// <param name="FileName">Name the client gave (only its last segment is used).</param>
/// <param name="Open">Opens the content; reading more than the size limit fails.</param>
public sealed record IncomingFile(string FileName, Func<Stream> Open);

/// <summary>
/// Stores volumes operators upload for review, after checking them so that a corrupt or hostile
/// file is refused with a clear message and never reaches inference: operators only (checked
/// here, whatever the page shows); the total size is capped while copying
/// (<see cref="ReviewOptions.MaxUploadBytes"/>), names are reduced to a safe file name with a
/// known extension; each header is read first and its dimensions checked against
/// <see cref="ReviewOptions.MaxDimension"/>, <see cref="ReviewOptions.MaxVoxels"/> and
/// <see cref="ReviewOptions.MaxChannels"/> before any voxel buffer exists; a MetaImage may not
/// point at data outside its upload; then each volume is read in full (the engine's readers
/// bound every allocation by the file size) and the images and label must share one grid.
/// A refused upload leaves nothing behind.
/// </summary>
public sealed class UploadService(ReviewRepository repository, ReviewStorage storage, IOptions<ReviewOptions> options, TimeProvider clock)
{
    private static readonly string[] HeaderExtensions = [".nii", ".nii.gz", ".hdr", ".hdr.gz", ".mha", ".mhd"];
    private static readonly string[] DataExtensions = [".img", ".img.gz", ".raw", ".zraw"];

    /// <summary>File types the upload accepts, for the file picker and messages.</summary>
    public static string Accept => string.Join(",", HeaderExtensions.Concat(DataExtensions));

    public ReviewOptions Options => options.Value;

    /// <summary>Checks and stores one upload.</summary>
    /// <param name="user">Must be an operator or admin.</param>
    /// <param name="name">Display name; empty uses the first image's name.</param>
    /// <param name="images">One file per modality in order, or one multi-channel file (pairs: both halves).</param>
    /// <param name="label">Ground-truth label file(s), or empty.</param>
    /// <param name="cancellation">Stops the copy.</param>
    /// <exception cref="UnauthorizedAccessException">The user is not an operator.</exception>
    /// <exception cref="UploadRejectedException">A file is of the wrong type, too large, corrupt or inconsistent.</exception>
    public async Task<UploadDocument> StoreAsync(ClaimsPrincipal user, string? name, IReadOnlyList<IncomingFile> images, IReadOnlyList<IncomingFile> label,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.DemandOperator("upload volumes");
        if (images.Count == 0) throw new UploadRejectedException("Choose at least one image file (NIfTI .nii/.nii.gz, Analyze .hdr+.img or MetaImage .mha/.mhd).");
        var o = options.Value;
        var id = $"{clock.GetUtcNow():yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        var folder = storage.UploadFolder(id);
        Directory.CreateDirectory(folder);
        try
        {
            var files = new List<UploadFile>();
            long total = 0;
            var imageNames = new List<string>();
            var labelNames = new List<string>();
            foreach (var (file, role) in images.Select(f => (f, "image")).Concat(label.Select(f => (f, "label"))))
            {
                var safe = SafeName(file.FileName);
                if (files.Any(f => f.Name == safe))
                    throw new UploadRejectedException($"{safe}: the same file name was given twice.");
                var path = storage.UploadFile(id, safe);
                long written;
                try
                {
                    await using var source = file.Open();
                    await using var target = File.Create(path);
                    written = await CopyLimitedAsync(source, target, o.MaxUploadBytes - total, $"{safe}: {TooLarge(o)}.", cancellation);
                }
                catch (IOException e) when (e is not FileNotFoundException)
                {
                    // Blazor's browser-file stream reports a file over its maximum as an IOException.
                    throw new UploadRejectedException($"{safe}: {TooLarge(o)} ({e.Message})");
                }
                total += written;
                files.Add(new UploadFile { Name = safe, Role = role, Bytes = written });
                (role == "image" ? imageNames : labelNames).Add(safe);
            }

            var imageVolumes = HeaderFiles(imageNames, "image");
            var labelVolumes = HeaderFiles(labelNames, "label");
            if (imageVolumes.Count == 0) throw new UploadRejectedException("No image volume: give a .nii, .nii.gz, .hdr (with its .img), .mha or .mhd file.");
            if (labelVolumes.Count > 1) throw new UploadRejectedException($"Give one ground-truth label volume, not {labelVolumes.Count}.");

            var read = new List<Volume>();
            foreach (var v in imageVolumes.Concat(labelVolumes))
                read.Add(CheckAndRead(storage.UploadFile(id, v), v, folder, o));
            var imageRead = read.Take(imageVolumes.Count).ToList();
            var first = imageRead[0];
            if (imageRead.Count > 1)
            {
                foreach (var (v, n) in imageRead.Zip(imageVolumes).Skip(1))
                {
                    if (v.Channels != 1 || first.Channels != 1)
                        throw new UploadRejectedException($"{n}: with one file per modality each file must hold one channel (this one has {v.Channels}, {imageVolumes[0]} has {first.Channels}).");
                    CheckSameGrid(first, imageVolumes[0], v, n);
                }
            }
            if (labelVolumes.Count == 1)
            {
                var l = read[^1];
                if (l.Channels != 1) throw new UploadRejectedException($"{labelVolumes[0]}: a label volume has one channel, this one has {l.Channels}.");
                CheckSameGrid(first, imageVolumes[0], l, labelVolumes[0]);
                if (l.DataType is VoxelType.Float32 or VoxelType.Float64)
                {
                    var values = l.ToFloatArray();
                    if (values.Any(x => !float.IsFinite(x) || x != MathF.Round(x)))
                        throw new UploadRejectedException($"{labelVolumes[0]}: label values must be whole numbers (class values), this file has fractional or NaN values.");
                }
            }

            var (x, y, z) = first.Size;
            var doc = new UploadDocument
            {
                Id = id,
                Name = string.IsNullOrWhiteSpace(name) ? imageVolumes[0] : name.Trim(),
                CreatedBy = user.Identity?.Name ?? "",
                CreatedAt = clock.GetUtcNow().UtcDateTime,
                Files = files,
                Images = imageVolumes,
                Label = labelVolumes.FirstOrDefault(),
                Shape = [x, y, z],
                Channels = imageRead.Count == 1 ? first.Channels : imageRead.Count,
                Orientation = first.Geometry.Orientation,
                Bytes = total,
            };
            repository.SaveUpload(doc);
            return doc;
        }
        catch
        {
            ReviewStorage.DeleteFolder(folder);
            throw;
        }
    }

    /// <summary>Removes an upload and its files (operators only). Reviews of it keep their own copies.</summary>
    public bool Remove(ClaimsPrincipal user, string id)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.DemandOperator("remove uploads");
        if (repository.GetUpload(id) is null) return false;
        repository.DeleteUpload(id);
        ReviewStorage.DeleteFolder(storage.UploadFolder(id));
        return true;
    }

    /// <summary>The file name a client name is stored under; throws for names of unsupported types.</summary>
    public static string SafeName(string clientName)
    {
        var name = Path.GetFileName((clientName ?? "").Replace('\\', '/'));
        var clean = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray()).TrimStart('.');
        if (clean.Length == 0 || clean.Length > 200)
            throw new UploadRejectedException($"'{clientName}' is not a usable file name.");
        if (!HeaderExtensions.Concat(DataExtensions).Any(e => clean.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            throw new UploadRejectedException($"{clean}: unsupported file type. Upload NIfTI (.nii, .nii.gz, .hdr + .img), Analyze (.hdr + .img) or MetaImage (.mha, or .mhd with its .raw/.zraw).");
        return clean;
    }

    private static string TooLarge(ReviewOptions o) =>
        $"the upload is larger than the limit of {ReviewOptions.FormatBytes(o.MaxUploadBytes)} (setting {ReviewOptions.Section}:{nameof(ReviewOptions.MaxUploadBytes)})";

    private static async Task<long> CopyLimitedAsync(Stream source, Stream target, long remaining, string tooLarge, CancellationToken cancellation)
    {
        var buffer = new byte[81920];
        long total = 0;
        int n;
        while ((n = await source.ReadAsync(buffer, cancellation)) > 0)
        {
            total += n;
            if (total > remaining)
                throw new UploadRejectedException(tooLarge);
            await target.WriteAsync(buffer.AsMemory(0, n), cancellation);
        }
        return total;
    }

    /// <summary>The volumes among <paramref name="names"/> (a pair counts once, by its header); checks that pairs are complete.</summary>
    private static List<string> HeaderFiles(List<string> names, string role)
    {
        var result = new List<string>();
        foreach (var n in names)
        {
            var lower = n.ToLowerInvariant();
            if (lower.EndsWith(".img", StringComparison.Ordinal) || lower.EndsWith(".img.gz", StringComparison.Ordinal))
            {
                var stem = n[..n.LastIndexOf(".img", StringComparison.OrdinalIgnoreCase)];
                if (!names.Any(o => o.Equals(stem + ".hdr", StringComparison.OrdinalIgnoreCase) || o.Equals(stem + ".hdr.gz", StringComparison.OrdinalIgnoreCase)))
                    throw new UploadRejectedException($"{n}: an .img file needs its header {stem}.hdr in the same {role} upload.");
                continue;
            }
            if (lower.EndsWith(".raw", StringComparison.Ordinal) || lower.EndsWith(".zraw", StringComparison.Ordinal))
                continue; // a MetaImage data file: its .mhd names it
            if (lower.EndsWith(".hdr", StringComparison.Ordinal) || lower.EndsWith(".hdr.gz", StringComparison.Ordinal))
            {
                var stem = n[..n.LastIndexOf(".hdr", StringComparison.OrdinalIgnoreCase)];
                if (!names.Any(o => o.Equals(stem + ".img", StringComparison.OrdinalIgnoreCase) || o.Equals(stem + ".img.gz", StringComparison.OrdinalIgnoreCase)))
                    throw new UploadRejectedException($"{n}: a .hdr header needs its data file {stem}.img in the same {role} upload.");
            }
            result.Add(n);
        }
        return result;
    }

    /// <summary>Header checks before any voxel allocation, then a full read; every failure becomes a message.</summary>
    public static Volume CheckAndRead(string path, string name, string folder, ReviewOptions o)
    {
        VolumeHeader header;
        try
        {
            header = VolumeIO.ReadHeader(path);
        }
        catch (Exception e) when (e is VolumeFormatException or IOException or InvalidDataException or ArgumentException or OverflowException or FormatException or NotSupportedException)
        {
            throw new UploadRejectedException($"{name}: not a readable volume header: {Plain(e)}");
        }
        CheckHeader(header, name, o);
        var dataFull = Path.GetFullPath(header.DataPath);
        if (!dataFull.StartsWith(Path.GetFullPath(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new UploadRejectedException($"{name}: its header points at data outside the upload ({Path.GetFileName(header.DataPath)}); upload the data file with it and name it without a folder.");
        if (!File.Exists(dataFull))
            throw new UploadRejectedException($"{name}: its data file {Path.GetFileName(dataFull)} was not uploaded.");
        try
        {
            return VolumeIO.Read(path);
        }
        catch (Exception e) when (e is VolumeFormatException or IOException or InvalidDataException or ArgumentException or OverflowException or FormatException or NotSupportedException or OutOfMemoryException)
        {
            throw new UploadRejectedException($"{name}: the voxel data cannot be read: {Plain(e)}");
        }
    }

    /// <summary>Refuses absurd dimensions declared by a header (before anything is allocated for them).</summary>
    public static void CheckHeader(VolumeHeader header, string name, ReviewOptions o)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(o);
        var shape = header.Shape;
        if (shape.Count == 0 || shape.Any(d => d <= 0))
            throw new UploadRejectedException($"{name}: the header declares dimensions ({string.Join(" × ", shape)}); every dimension must be positive.");
        for (var a = 0; a < Math.Min(3, shape.Count); a++)
            if (shape[a] > o.MaxDimension)
                throw new UploadRejectedException($"{name}: the header declares {shape[a]} voxels along axis {a + 1}, more than the limit of {o.MaxDimension} ({ReviewOptions.Section}:{nameof(ReviewOptions.MaxDimension)}).");
        var channels = shape.Skip(3).Aggregate(1L, (x, y) => x * y);
        if (channels > o.MaxChannels)
            throw new UploadRejectedException($"{name}: the header declares {channels} channels, more than the limit of {o.MaxChannels} ({ReviewOptions.Section}:{nameof(ReviewOptions.MaxChannels)}).");
        if (header.Count > o.MaxVoxels)
            throw new UploadRejectedException($"{name}: the header declares {header.Count:N0} voxels, more than the limit of {o.MaxVoxels:N0} ({ReviewOptions.Section}:{nameof(ReviewOptions.MaxVoxels)}).");
        if (shape.Count >= 3 && (shape[0] < 2 || shape[1] < 2 || shape[2] < 2))
            throw new UploadRejectedException($"{name}: the header declares {string.Join(" × ", shape)} voxels; review needs a 3D volume (at least 2 voxels along each axis).");
        if (shape.Count < 3)
            throw new UploadRejectedException($"{name}: the header declares a {shape.Count}D image; review needs a 3D volume.");
    }

    private static void CheckSameGrid(Volume first, string firstName, Volume other, string otherName)
    {
        if (other.Size != first.Size)
            throw new UploadRejectedException($"{otherName} is {other.Size.X}×{other.Size.Y}×{other.Size.Z} but {firstName} is {first.Size.X}×{first.Size.Y}×{first.Size.Z}: every file must be on one grid.");
        if (!other.Geometry.ApproximatelyEquals(first.Geometry, 1e-3))
            throw new UploadRejectedException($"{otherName} has a different affine than {firstName} ({other.Geometry} vs {first.Geometry}): every file must be on one grid.");
    }

    private static string Plain(Exception e) => e.Message;
}
