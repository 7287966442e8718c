using System.Globalization;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data.Datasets;

/// <summary>Helpers shared by the dataset definitions: modality selection, file naming, ordering and reading a subject from its files.</summary>
public static class DatasetLayout
{
    /// <summary>Extensions of volume files the I/O layer reads (longest first so ".nii.gz" wins over ".gz").</summary>
    public static IReadOnlyList<string> VolumeExtensions { get; } = [".nii.gz", ".nii", ".hdr", ".img", ".mha", ".mhd", ".img.gz"];

    /// <summary>
    /// Geometry agreement required between a subject's modalities and its label: every affine element
    /// within 1e-3 mm plus 1e-5 of its magnitude (float32 headers written by different tools differ
    /// in the last digits; anything larger is a real misalignment).
    /// </summary>
    public const double GeometryTolerance = 1e-3;

    /// <summary>
    /// The modalities to load: all of <paramref name="available"/> when <paramref name="requested"/> is
    /// null or empty, else the requested ones (case-insensitive) in the requested order, spelled as the
    /// dataset spells them. Unknown names throw, listing the valid ones.
    /// </summary>
    public static IReadOnlyList<string> SelectModalities(string dataset, IReadOnlyList<string> available, IReadOnlyList<string>? requested)
    {
        if (requested is null || requested.Count == 0) return available.ToArray();
        var result = new List<string>();
        foreach (var r in requested)
        {
            var match = available.FirstOrDefault(a => string.Equals(a, r.Trim(), StringComparison.OrdinalIgnoreCase))
                ?? throw new DatasetException($"dataset '{dataset}' has no modality '{r}': it has {string.Join(", ", available)}");
            result.Add(match);
        }
        return result;
    }

    /// <summary>True if the file name has a volume extension.</summary>
    public static bool IsVolumeFile(string fileName) =>
        VolumeExtensions.Any(e => fileName.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// True for files a dataset folder may hold besides its volumes without it being a layout error:
    /// hidden files and macOS "._" resource forks (present in the Decathlon archives).
    /// </summary>
    public static bool IsIgnorable(string fileName) => fileName.StartsWith('.');

    /// <summary>Orders ids the way people count: "subject-2" before "subject-10".</summary>
    public static IComparer<string> NaturalOrder { get; } = Comparer<string>.Create(CompareNatural);

    private static int CompareNatural(string? a, string? b)
    {
        if (ReferenceEquals(a, b)) return 0;
        if (a is null) return -1;
        if (b is null) return 1;
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
            {
                var si = i; while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                var sj = j; while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                var na = a[si..i].TrimStart('0'); var nb = b[sj..j].TrimStart('0');
                if (na.Length != nb.Length) return na.Length.CompareTo(nb.Length);
                var c = string.CompareOrdinal(na, nb);
                if (c != 0) return c;
                c = (i - si).CompareTo(j - sj); // "07" after "7": stable, distinct
                if (c != 0) return c;
                continue;
            }
            var ca = char.ToLowerInvariant(a[i]); var cb = char.ToLowerInvariant(b[j]);
            if (ca != cb) return ca.CompareTo(cb);
            i++; j++;
        }
        var rest = (a.Length - i).CompareTo(b.Length - j);
        return rest != 0 ? rest : string.CompareOrdinal(a, b);
    }

    /// <summary>
    /// The first existing file among <paramref name="folder"/>/<paramref name="stem"/> + each of
    /// <paramref name="extensions"/>; null when none exists.
    /// </summary>
    public static string? FindWithExtensions(string folder, string stem, params string[] extensions) =>
        extensions.Select(e => Path.Combine(folder, stem + e)).FirstOrDefault(File.Exists);

    /// <summary>
    /// The first folder among <paramref name="candidates"/> (relative to <paramref name="root"/>, ""
    /// = root itself) that satisfies <paramref name="looksRight"/>; null when none does.
    /// </summary>
    public static string? ResolveFolder(string root, Func<string, bool> looksRight, params string[] candidates)
    {
        foreach (var c in candidates)
        {
            var dir = c.Length == 0 ? root : Path.Combine(root, c);
            if (Directory.Exists(dir) && looksRight(dir)) return Path.GetFullPath(dir);
        }
        return null;
    }

    /// <summary>Error text for a folder that does not exist or is not the expected layout.</summary>
    public static string WrongFolder(string dataset, string? path, string expected, params string[] tried)
    {
        if (string.IsNullOrWhiteSpace(path)) return $"dataset '{dataset}' needs a folder (--path): {expected}";
        if (!Directory.Exists(path)) return $"dataset '{dataset}': folder '{path}' does not exist; expected {expected}";
        var where = tried.Length == 0 ? $"'{path}'" : string.Join(", ", tried.Select(t => t.Length == 0 ? $"'{path}'" : $"'{Path.Combine(path, t)}'"));
        return $"dataset '{dataset}': no subjects found in {where}; expected {expected}";
    }

    /// <summary>
    /// Reads a subject from its files (each distinct file once): every modality must be a 3D volume
    /// (or the named channel of a 4D file), all on the same grid and geometry as the first modality,
    /// and the label must match too; it is mapped through <paramref name="mapping"/>. Every problem
    /// found is reported together in one <see cref="DatasetException"/> naming the subject and file.
    /// The volumes read are disposed before it returns or throws (their voxels are copied into the
    /// subject's arrays), so their buffers serve the next subject's reads (<see cref="Volume.Dispose"/>).
    /// </summary>
    public static RawSubject LoadFromFiles(SubjectSource source, IReadOnlyList<string> modalities, LabelMapping mapping, IVolumeReader reader)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(reader);
        var volumes = new Dictionary<string, Volume?>(StringComparer.Ordinal);
        try
        {
            return ReadSubject(source, modalities, mapping, reader, volumes);
        }
        finally
        {
            // Everything the subject keeps is a copy (float images, mapped labels, the geometry record).
            foreach (var v in volumes.Values) v?.Dispose();
        }
    }

    private static RawSubject ReadSubject(SubjectSource source, IReadOnlyList<string> modalities, LabelMapping mapping, IVolumeReader reader, Dictionary<string, Volume?> volumes)
    {
        var errors = new List<string>();
        Volume? Read(string path)
        {
            if (volumes.TryGetValue(path, out var cached)) return cached;
            Volume? v = null;
            try
            {
                if (!File.Exists(path)) errors.Add($"subject '{source.Id}': file '{path}' does not exist");
                else v = reader.Read(path);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or NotSupportedException or ArgumentException or UnauthorizedAccessException or OverflowException or InvalidOperationException)
            {
                errors.Add($"subject '{source.Id}': cannot read '{path}': {e.Message}");
            }
            volumes[path] = v;
            return v;
        }

        var images = new float[source.Images.Count][];
        Volume? reference = null;
        string? referencePath = null;
        for (var m = 0; m < source.Images.Count; m++)
        {
            var file = source.Images[m];
            var v = Read(file.Path);
            if (v is null) continue;
            if (file.Channel < 0 && v.Channels != 1)
            {
                errors.Add($"subject '{source.Id}': modality '{file.Modality}' file '{file.Path}' has {v.Channels} channels (shape {ShapeText(v)}); expected a single 3D volume");
                continue;
            }
            if (file.Channel >= 0 && file.ChannelCount > 0 && v.Channels != file.ChannelCount)
            {
                if (m == 0 || source.Images[m - 1].Path != file.Path)
                    errors.Add($"subject '{source.Id}': image file '{file.Path}' has {v.Channels} channel(s) (shape {ShapeText(v)}); the dataset lists {file.ChannelCount} modalities");
                continue;
            }
            if (file.Channel >= v.Channels)
            {
                errors.Add($"subject '{source.Id}': modality '{file.Modality}' is channel {file.Channel} of '{file.Path}', which has {v.Channels} channel(s)");
                continue;
            }
            if (reference is null)
            {
                reference = v;
                referencePath = file.Path;
            }
            else if (!SameGrid(reference, v, out var why))
            {
                errors.Add($"subject '{source.Id}': modality '{file.Modality}' file '{file.Path}' does not match '{referencePath}': {why}");
                continue;
            }
            images[m] = v.ChannelToFloatArray(Math.Max(0, file.Channel));
        }

        byte[]? label = null;
        if (source.LabelFile is { } labelPath)
        {
            var v = Read(labelPath);
            if (v is not null)
            {
                if (reference is not null && v.Channels == 1 && !SameGrid(reference, v, out var why))
                    errors.Add($"subject '{source.Id}': label file '{labelPath}' does not match '{referencePath}': {why}");
                else
                {
                    try { label = mapping.Map(v, source.Id, labelPath); }
                    catch (DatasetException e) { errors.AddRange(e.Errors); }
                }
            }
        }

        if (errors.Count > 0) throw new DatasetException(errors);
        var (x, y, z) = reference!.Size;
        return new RawSubject(source.Id, modalities, images, label, new SpatialSize(z, y, x), reference.Geometry, source.Files, source.Group);
    }

    /// <summary>Shape as "X×Y×Z" (file order) with channels when there are several.</summary>
    public static string ShapeText(Volume v) =>
        string.Join("×", v.Shape.Select(s => s.ToString(CultureInfo.InvariantCulture)));

    private static bool SameGrid(Volume a, Volume b, out string why)
    {
        if (a.Size != b.Size)
        {
            why = $"shape {a.Size.X}×{a.Size.Y}×{a.Size.Z} vs {b.Size.X}×{b.Size.Y}×{b.Size.Z}";
            return false;
        }
        var fa = a.Geometry.Affine;
        var fb = b.Geometry.Affine;
        for (var i = 0; i < 12; i++)
        {
            var tol = GeometryTolerance + 1e-5 * Math.Max(Math.Abs(fa[i]), Math.Abs(fb[i]));
            if (Math.Abs(fa[i] - fb[i]) > tol)
            {
                why = $"geometry differs ({a.Geometry} vs {b.Geometry}; affine element [{i / 4},{i % 4}] {fa[i].ToString("G6", CultureInfo.InvariantCulture)} vs {fb[i].ToString("G6", CultureInfo.InvariantCulture)})";
                return false;
            }
        }
        why = "";
        return true;
    }
}
