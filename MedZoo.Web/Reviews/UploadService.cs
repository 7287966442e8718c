using System.Security.Claims;
using MedZoo.Engine.IO;
using MedZoo.Web.Accounts;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Reviews;

/// <summary>
/// An upload refused. <see cref="Exception.Message"/> names the file once and leads with what the user
/// can do about it; <see cref="Detail"/> holds what a reader or a limit found (header fields, the
/// setting that sets the limit), shown below it on request.
/// </summary>
public sealed class UploadRejectedException(string message, string? detail = null) : Exception(message)
{
    /// <summary>The technical reason behind <see cref="Exception.Message"/>, or null when the message says it all.</summary>
    public string? Detail { get; } = detail;
}

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
/// The files are checked in a local folder and stored through <see cref="IReviewFiles"/> only once accepted (the data
/// folder, or PostgreSQL where a cluster worker reads them). A refused upload leaves nothing behind.
/// </summary>
public sealed class UploadService(IReviewStore repository, IReviewFiles files, IOptions<ReviewOptions> options, TimeProvider clock)
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
    public async Task<UploadRecord> StoreAsync(ClaimsPrincipal user, string? name, IReadOnlyList<IncomingFile> images, IReadOnlyList<IncomingFile> label,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.DemandOperator("upload volumes");
        if (images.Count == 0) throw new UploadRejectedException("Choose at least one image file (NIfTI .nii/.nii.gz, Analyze .hdr+.img or MetaImage .mha/.mhd).");
        var o = options.Value;
        var id = $"{clock.GetUtcNow():yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        using var staging = files.Stage(ReviewFileArea.Uploads, id);
        var folder = staging.Folder;
        var stored = new List<UploadFile>();
        long total = 0;
        var imageNames = new List<string>();
        var labelNames = new List<string>();
        foreach (var (file, role) in images.Select(f => (f, "image")).Concat(label.Select(f => (f, "label"))))
        {
            var safe = SafeName(file.FileName);
            if (stored.Any(f => f.Name == safe))
                throw new UploadRejectedException($"Choose each file once: {safe} was chosen twice.");
            var path = staging.File(safe);
            long written;
            try
            {
                await using var source = file.Open();
                await using var target = File.Create(path);
                written = await CopyLimitedAsync(source, target, o.MaxUploadBytes - total, TooLarge(o, safe, null), cancellation);
            }
            catch (IOException e) when (e is not FileNotFoundException)
            {
                // Blazor's browser-file stream reports a file over its maximum as an IOException.
                throw TooLarge(o, safe, e.Message);
            }
            total += written;
            stored.Add(new UploadFile { Name = safe, Role = role, Bytes = written });
            (role == "image" ? imageNames : labelNames).Add(safe);
        }

        var imageVolumes = HeaderFiles(imageNames, "image");
        var labelVolumes = HeaderFiles(labelNames, "label");
        if (imageVolumes.Count == 0) throw new UploadRejectedException($"Choose an image volume: {Formats}.");
        if (labelVolumes.Count > 1) throw new UploadRejectedException($"Choose one ground-truth label volume, not {labelVolumes.Count}.");

        var read = new List<Volume>();
        foreach (var v in imageVolumes.Concat(labelVolumes))
            read.Add(CheckAndRead(staging.File(v), v, folder, o));
        var imageRead = read.Take(imageVolumes.Count).ToList();
        var first = imageRead[0];
        if (imageRead.Count > 1)
        {
            foreach (var (v, n) in imageRead.Zip(imageVolumes).Skip(1))
            {
                if (v.Channels != 1 || first.Channels != 1)
                    throw new UploadRejectedException(
                        $"Upload either one file per modality, each with one channel, or a single multi-channel file: {n} has {v.Channels} channel(s) and {imageVolumes[0]} has {first.Channels}.");
                CheckSameGrid(first, imageVolumes[0], v, n);
            }
        }
        if (labelVolumes.Count == 1)
        {
            var l = read[^1];
            if (l.Channels != 1) throw new UploadRejectedException($"Choose a label volume with one channel (class values): {labelVolumes[0]} has {l.Channels}.");
            CheckSameGrid(first, imageVolumes[0], l, labelVolumes[0]);
            if (l.DataType is VoxelType.Float32 or VoxelType.Float64)
            {
                var values = l.ToFloatArray();
                if (values.Any(x => !float.IsFinite(x) || x != MathF.Round(x)))
                    throw new UploadRejectedException($"Choose a label volume of whole class values (0, 1, 2, …): {labelVolumes[0]} holds fractional or NaN values, as an image or a probability map would.");
            }
        }

        var (x, y, z) = first.Size;
        var doc = new UploadRecord
        {
            Id = id,
            Name = string.IsNullOrWhiteSpace(name) ? imageVolumes[0] : name.Trim(),
            CreatedBy = user.Identity?.Name ?? "",
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            Files = stored,
            Images = imageVolumes,
            Label = labelVolumes.FirstOrDefault(),
            Shape = [x, y, z],
            Channels = imageRead.Count == 1 ? first.Channels : imageRead.Count,
            Orientation = first.Geometry.Orientation,
            Bytes = total,
        };
        staging.Commit();
        try
        {
            repository.SaveUpload(doc);
        }
        catch
        {
            files.Delete(ReviewFileArea.Uploads, id);
            throw;
        }
        return doc;
    }

    /// <summary>Removes an upload and its files (operators only). Reviews of it keep their own copies.</summary>
    public bool Remove(ClaimsPrincipal user, string id)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.DemandOperator("remove uploads");
        if (repository.GetUpload(id) is null) return false;
        repository.DeleteUpload(id);
        files.Delete(ReviewFileArea.Uploads, id);
        return true;
    }

    /// <summary>The file name a client name is stored under; throws for names of unsupported types.</summary>
    public static string SafeName(string clientName)
    {
        var name = Path.GetFileName((clientName ?? "").Replace('\\', '/'));
        var clean = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray()).TrimStart('.');
        if (clean.Length == 0 || clean.Length > 200)
            throw new UploadRejectedException($"Rename the file: '{clientName}' is empty or longer than 200 characters once unusual characters are removed.");
        if (!HeaderExtensions.Concat(DataExtensions).Any(e => clean.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            throw new UploadRejectedException($"{clean} is not a volume file this page reads: upload {Formats}.");
        return clean;
    }

    /// <summary>The formats the upload reads, as the user picks files.</summary>
    private const string Formats = "NIfTI (.nii or .nii.gz, or a .hdr with its .img), Analyze (.hdr with its .img) or MetaImage (.mha, or a .mhd with its .raw or .zraw)";

    private static UploadRejectedException TooLarge(ReviewOptions o, string name, string? reason) => new(
        $"The upload is larger than {ByteSize.Format(o.MaxUploadBytes)} (reached at {name}): upload fewer files at a time, or compressed .nii.gz files, or ask an administrator to raise the limit.",
        $"Setting {ReviewOptions.Section}:{nameof(ReviewOptions.MaxUploadBytes)} = {o.MaxUploadBytes} bytes." + (reason is null ? "" : $" {reason}"));

    private static async Task<long> CopyLimitedAsync(Stream source, Stream target, long remaining, UploadRejectedException tooLarge, CancellationToken cancellation)
    {
        var buffer = new byte[81920];
        long total = 0;
        int n;
        while ((n = await source.ReadAsync(buffer, cancellation)) > 0)
        {
            total += n;
            if (total > remaining)
                throw tooLarge;
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
                    throw new UploadRejectedException($"Add the header {stem}.hdr to the {role} files: {n} holds only the voxels of an Analyze/NIfTI pair.");
                continue;
            }
            if (lower.EndsWith(".raw", StringComparison.Ordinal) || lower.EndsWith(".zraw", StringComparison.Ordinal))
                continue; // a MetaImage data file: its .mhd names it
            if (lower.EndsWith(".hdr", StringComparison.Ordinal) || lower.EndsWith(".hdr.gz", StringComparison.Ordinal))
            {
                var stem = n[..n.LastIndexOf(".hdr", StringComparison.OrdinalIgnoreCase)];
                if (!names.Any(o => o.Equals(stem + ".img", StringComparison.OrdinalIgnoreCase) || o.Equals(stem + ".img.gz", StringComparison.OrdinalIgnoreCase)))
                    throw new UploadRejectedException($"Add the data file {stem}.img to the {role} files: {n} is only the header of an Analyze/NIfTI pair.");
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
            throw new UploadRejectedException(NotReadable(name), Plain(e));
        }
        CheckHeader(header, name, o);
        var dataFull = Path.GetFullPath(header.DataPath);
        if (!dataFull.StartsWith(Path.GetFullPath(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new UploadRejectedException(
                $"Upload {name} with its data file, and make its header name that file without a folder: it points outside the upload.",
                $"Data file named in the header: {Path.GetFileName(header.DataPath)}.");
        if (!File.Exists(dataFull))
            throw new UploadRejectedException($"Add {Path.GetFileName(dataFull)} to the upload: it holds the voxels of {name}.");
        try
        {
            return VolumeIO.Read(path);
        }
        catch (Exception e) when (e is VolumeFormatException or IOException or InvalidDataException or ArgumentException or OverflowException or FormatException or NotSupportedException or OutOfMemoryException)
        {
            throw new UploadRejectedException(
                $"{name} is damaged or cut short: its header reads, its voxels do not. Upload it again, or export it again from where it came from.", Plain(e));
        }
    }

    /// <summary>Refuses absurd dimensions declared by a header (before anything is allocated for them).</summary>
    public static void CheckHeader(VolumeHeader header, string name, ReviewOptions o)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(o);
        var shape = header.Shape;
        if (shape.Count == 0 || shape.Any(d => d <= 0))
            throw new UploadRejectedException(NotReadable(name), $"The header declares dimensions ({string.Join(" × ", shape)}); every dimension must be positive.");
        for (var a = 0; a < Math.Min(3, shape.Count); a++)
            if (shape[a] > o.MaxDimension)
                throw new UploadRejectedException(
                    $"{name} is too large to review: {shape[a]} voxels along axis {a + 1}, the limit is {o.MaxDimension}. Crop or resample it, or ask an administrator to raise the limit.",
                    $"Setting {ReviewOptions.Section}:{nameof(ReviewOptions.MaxDimension)} = {o.MaxDimension}; the header declares {string.Join(" × ", shape)}.");
        var channels = shape.Skip(3).Aggregate(1L, (x, y) => x * y);
        if (channels > o.MaxChannels)
            throw new UploadRejectedException(
                $"{name} has too many channels to review: {channels}, the limit is {o.MaxChannels}. Upload one file per modality, or ask an administrator to raise the limit.",
                $"Setting {ReviewOptions.Section}:{nameof(ReviewOptions.MaxChannels)} = {o.MaxChannels}; the header declares {string.Join(" × ", shape)}.");
        if (header.Count > o.MaxVoxels)
            throw new UploadRejectedException(
                $"{name} is too large to review: {header.Count:N0} voxels, the limit is {o.MaxVoxels:N0}. Crop or resample it, or ask an administrator to raise the limit.",
                $"Setting {ReviewOptions.Section}:{nameof(ReviewOptions.MaxVoxels)} = {o.MaxVoxels}; the header declares {string.Join(" × ", shape)}.");
        if (shape.Count >= 3 && (shape[0] < 2 || shape[1] < 2 || shape[2] < 2))
            throw new UploadRejectedException(
                $"Upload a 3D volume: {name} is {string.Join(" × ", shape)} voxels, and review needs at least 2 along each of three axes (a single slice cannot be reviewed).");
        if (shape.Count < 3)
            throw new UploadRejectedException($"Upload a 3D volume: {name} is a {shape.Count}D image.");
    }

    private static void CheckSameGrid(Volume first, string firstName, Volume other, string otherName)
    {
        if (other.Size != first.Size)
            throw new UploadRejectedException(
                $"Upload files on one voxel grid: {otherName} is {other.Size.X}×{other.Size.Y}×{other.Size.Z} voxels but {firstName} is {first.Size.X}×{first.Size.Y}×{first.Size.Z}. Resample them onto one grid first.");
        if (!other.Geometry.ApproximatelyEquals(first.Geometry, 1e-3))
            throw new UploadRejectedException(
                $"Upload files on one voxel grid: {otherName} lies elsewhere in space than {firstName} (other spacing, origin or orientation). Resample them onto one grid first.",
                $"{otherName}: {other.Geometry}; {firstName}: {first.Geometry}.");
    }

    // What a reader found, without the file name it puts first (the message names the file once).
    private static string Plain(Exception e) => Capitalized(e is VolumeFormatException v ? v.Problem : e.Message);

    private static string Capitalized(string text) => text.Length > 0 && char.IsLower(text[0]) ? char.ToUpperInvariant(text[0]) + text[1..] : text;

    // Leads with what the file should be, by the type its name says.
    private static string NotReadable(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower.EndsWith(".mha", StringComparison.Ordinal) || lower.EndsWith(".mhd", StringComparison.Ordinal)
            ? $"{name} is not a MetaImage file this page can read: expected a whole .mha, or an .mhd with its .raw or .zraw data file, as ITK, 3D Slicer or SimpleITK write them."
            : $"{name} is not a NIfTI or Analyze file this page can read: expected a whole .nii or .nii.gz volume, or a .hdr header with its .img, as ITK-SNAP, 3D Slicer, FSL or nibabel write them.";
    }
}
