using System.Buffers.Binary;
using System.IO.Compression;
using MedZoo.Engine.IO.MetaImage;
using MedZoo.Engine.IO.Nifti;

namespace MedZoo.Engine.IO;

/// <summary>
/// Reads and writes volumes: NIfTI-1 and NIfTI-2 (.nii, .nii.gz, .hdr/.img pairs, gzipped pairs
/// on read), Analyze 7.5 (.hdr/.img, read only) and MetaImage (.mha, .mhd + .raw/.zraw).
/// </summary>
/// <remarks>
/// <para><b>Format</b>: by extension (.nii[.gz] → NIfTI single file; .hdr/.img[.gz] → pair, NIfTI
/// when the header has a NIfTI magic, else Analyze; .mha/.mhd → MetaImage); any other name is
/// recognised by content (gzip, sizeof_hdr 348/540, MetaImage text keys). Byte order is detected.</para>
/// <para><b>Affine</b> (the volume's voxel-to-RAS mapping), as nibabel chooses it: the sform when
/// sform_code &gt; 0 (so an sform that disagrees with the qform wins), else the qform when
/// qform_code &gt; 0, else nibabel's fallback for NIfTI and Analyze: diag(−pixdim₁, pixdim₂,
/// pixdim₃) with the grid's centre at the origin (x flipped, radiological), or for Analyze SPM's
/// origin field when set. This fallback is nibabel's, not the NIfTI standard's "method 1"
/// (diag(pixdim) anchored at voxel 0), so that MedZoo and nibabel agree on every file.
/// MetaImage's LPS geometry is converted to RAS.</para>
/// <para><b>Values</b>: raw voxels are kept in their stored type with scl_slope/scl_inter (or
/// MetaImage's intensity function) applied on access; a slope of 0 or NaN means no scaling, as in
/// nibabel; NaNs are preserved.</para>
/// <para><b>Bounded reading</b>: each file is read front to back once (a gzip file is inflated once);
/// before any voxel buffer is allocated, the header's dims, datatype and data offset are checked
/// against what the file can hold (its size, or for compressed data its size times deflate's
/// maximum ratio of about 1032:1), and data that ends early is reported, never waited for.
/// Bad content raises <see cref="VolumeFormatException"/> naming the file and the problem; a
/// missing file raises <see cref="FileNotFoundException"/>.</para>
/// <para><b>Writing</b> goes through a temporary file that replaces the target only when complete.</para>
/// </remarks>
public static class VolumeIO
{
    private enum Kind { NiftiSingle, Pair, MetaImage }

    /// <summary>Extensions <see cref="Read(string)"/> recognises by name.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".nii", ".nii.gz", ".hdr", ".hdr.gz", ".img", ".img.gz", ".mha", ".mhd"];

    /// <summary>True if <paramref name="path"/> has an extension of a volume format MedZoo reads.</summary>
    public static bool IsVolumePath(string path) => KindByName(path) is not null;

    /// <summary>Reads the volume in <paramref name="path"/> (voxels, scaling and geometry).</summary>
    public static Volume Read(string path) => Read(path, out _);

    /// <summary>Reads the volume in <paramref name="path"/> and what its header said.</summary>
    public static Volume Read(string path, out VolumeHeader header)
    {
        var (h, v) = Dispatch(path, headerOnly: false);
        header = h;
        return v!;
    }

    /// <summary>
    /// Reads only the header: shape, datatype, zooms, affine, scaling. Cheap (a gzipped file is
    /// inflated only for its first bytes), and it does not need a pair's .img to exist.
    /// </summary>
    public static VolumeHeader ReadHeader(string path) => Dispatch(path, headerOnly: true).Header;

    /// <summary>
    /// Writes <paramref name="volume"/> to <paramref name="path"/> in the format of its extension
    /// (.nii, .nii.gz, .hdr or .img (a NIfTI-1 pair, .gz for gzipped), .mha, .mhd) with default options.
    /// </summary>
    public static void Write(Volume volume, string path) => Write(volume, path, VolumeWriteOptions.Default);

    /// <summary>Writes <paramref name="volume"/> with the given format variant options.</summary>
    public static void Write(Volume volume, string path, VolumeWriteOptions options)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        switch (KindByName(path))
        {
            case Kind.NiftiSingle:
            case Kind.Pair:
                NiftiWriter.Write(volume, path, options);
                break;
            case Kind.MetaImage:
                if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException($"{Path.GetFileName(path)}: MetaImage is not gzipped as a whole; use .mha/.mhd with Compress = true", nameof(path));
                MetaImageWriter.Write(volume, path, options);
                break;
            default:
                throw new ArgumentException($"{Path.GetFileName(path)}: cannot tell the format to write from the extension; use .nii, .nii.gz, .hdr, .mha or .mhd", nameof(path));
        }
    }

    private static Kind? KindByName(string path)
    {
        var p = path.ToLowerInvariant();
        if (p.EndsWith(".nii", StringComparison.Ordinal) || p.EndsWith(".nii.gz", StringComparison.Ordinal)) return Kind.NiftiSingle;
        if (p.EndsWith(".hdr", StringComparison.Ordinal) || p.EndsWith(".img", StringComparison.Ordinal) || p.EndsWith(".hdr.gz", StringComparison.Ordinal) || p.EndsWith(".img.gz", StringComparison.Ordinal)) return Kind.Pair;
        if (p.EndsWith(".mha", StringComparison.Ordinal) || p.EndsWith(".mhd", StringComparison.Ordinal)) return Kind.MetaImage;
        return null;
    }

    private static (VolumeHeader Header, Volume? Volume) Dispatch(string path, bool headerOnly)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var kind = KindByName(path);
        // A missing partner of a pair is reported by the pair reader (it names both files).
        if (kind != Kind.Pair && !File.Exists(path))
            throw new FileNotFoundException($"{Path.GetFileName(path)}: no such file ({path})", path);
        if (kind == Kind.Pair && !File.Exists(path) && !File.Exists(NiftiReader.PairPaths(path).Header))
            throw new FileNotFoundException($"{Path.GetFileName(path)}: no such file ({path})", path);
        return (kind ?? Sniff(path)) switch
        {
            Kind.NiftiSingle => NiftiReader.ReadSingle(path, headerOnly),
            Kind.Pair => NiftiReader.ReadPair(path, headerOnly),
            _ => MetaImageReader.Read(path, headerOnly),
        };
    }

    /// <summary>Format of a file with an unrecognised extension, from its first bytes.</summary>
    private static Kind Sniff(string path)
    {
        var head = new byte[64];
        int n;
        using (var file = File.OpenRead(path))
        {
            n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
            {
                file.Position = 0;
                try
                {
                    using var gz = new GZipStream(file, CompressionMode.Decompress);
                    n = gz.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
                }
                catch (InvalidDataException e)
                {
                    throw new VolumeFormatException(path, $"gzip data is corrupt ({e.Message})", e);
                }
            }
        }
        if (n >= 4)
        {
            var le = BinaryPrimitives.ReadInt32LittleEndian(head);
            var be = BinaryPrimitives.ReadInt32BigEndian(head);
            if (le is 348 or 540 || be is 348 or 540) return Kind.NiftiSingle;
        }
        var text = System.Text.Encoding.ASCII.GetString(head, 0, n).TrimStart();
        string[] metaKeys = ["ObjectType", "NDims", "Comment", "ObjectSubType", "TransformType"];
        if (metaKeys.Any(k => text.StartsWith(k, StringComparison.OrdinalIgnoreCase))) return Kind.MetaImage;
        throw new VolumeFormatException(path, "unrecognised volume format: the extension is not .nii, .nii.gz, .hdr, .img, .mha or .mhd and the content is neither a NIfTI/Analyze header nor a MetaImage header");
    }
}
