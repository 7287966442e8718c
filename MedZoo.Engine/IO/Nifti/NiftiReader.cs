using System.Buffers.Binary;
using MedZoo.Engine.IO.Analyze;
using MedZoo.Engine.IO.Streams;

namespace MedZoo.Engine.IO.Nifti;

/// <summary>
/// Reads NIfTI-1/-2 single files (.nii, .nii.gz) and .hdr/.img pairs (NIfTI or, without a NIfTI
/// magic, Analyze 7.5 — the header layout is shared). The byte order comes from sizeof_hdr (348
/// or 540 read either way round). A gzipped file is inflated once, front to back: header,
/// extensions skipped up to vox_offset, then the voxels straight into the volume's buffer; an
/// uncompressed file's voxels arrive with one positional read into a buffer that a disposed volume
/// may have left in <see cref="VolumeBufferPool"/>.
/// </summary>
internal static class NiftiReader
{
    /// <summary>Reads a single-file NIfTI (.nii or .nii.gz; gzip recognised by content).</summary>
    public static (VolumeHeader Header, Volume? Volume) ReadSingle(string path, bool headerOnly)
    {
        using var input = VolumeInput.OpenFile(path);
        var h = ReadHeaderBlock(input);
        if (!IsNiftiMagic(h))
            throw input.Fail($"not a NIfTI file: magic is {Quote(h.Magic)}, expected \"n+1\" (NIfTI-1) or \"n+2\" (NIfTI-2); an Analyze header belongs in a .hdr/.img pair");
        var header = NiftiInterpreter.Interpret(h, path, path, single: true, compressed: input.IsCompressed);
        if (headerOnly)
        {
            // The file is open anyway: a header-only read rejects the same impossible sizes as a full one.
            DataLayout.CheckFits(header, input);
            return (header, null);
        }
        return (header, ReadVoxels(header, input));
    }

    /// <summary>Reads a .hdr/.img pair named by either file (each possibly gzipped).</summary>
    public static (VolumeHeader Header, Volume? Volume) ReadPair(string path, bool headerOnly)
    {
        var (hdrPath, imgCandidates) = PairPaths(path);
        if (!File.Exists(hdrPath))
            throw new VolumeFormatException(path, $"header file {Path.GetFileName(hdrPath)} not found (a .hdr/.img pair needs both)");
        VolumeHeader header;
        using (var hdrInput = VolumeInput.OpenFile(hdrPath))
        {
            var h = ReadHeaderBlock(hdrInput);
            var imgGuess = imgCandidates.FirstOrDefault(File.Exists) ?? imgCandidates[0];
            header = IsNiftiMagic(h)
                ? NiftiInterpreter.Interpret(h, hdrPath, imgGuess, single: false, compressed: false)
                : h.Version == 1
                    ? AnalyzeInterpreter.Interpret(h, hdrPath, imgGuess, compressed: false)
                    : throw hdrInput.Fail($"sizeof_hdr is 540 (NIfTI-2) but magic is {Quote(h.Magic)}, not \"ni2\" or \"n+2\"");
        }
        // A header alone is enough to describe the volume; only its voxels need the .img.
        if (headerOnly)
        {
            DataLayout.CheckComputable(header);
            return (header with { Compressed = IsGzipName(header.DataPath) }, null);
        }
        var imgPath = imgCandidates.FirstOrDefault(File.Exists)
            ?? throw new VolumeFormatException(hdrPath, $"image file {Path.GetFileName(imgCandidates[0])} not found next to the header (a .hdr/.img pair needs both)");
        using var imgInput = VolumeInput.OpenFile(imgPath);
        header = header with { DataPath = imgPath, Compressed = imgInput.IsCompressed };
        return (header, ReadVoxels(header, imgInput));
    }

    /// <summary>Reads and parses the 348- or 540-byte header at the start of <paramref name="input"/>.</summary>
    private static NiftiHeader ReadHeaderBlock(VolumeInput input)
    {
        var block = new byte[NiftiHeader.Nifti2Size];
        var n = input.ReadUpTo(block.AsSpan(0, NiftiHeader.Nifti1Size));
        if (n < 4)
            throw input.Fail($"file is {n} bytes long: too short for a NIfTI or Analyze header");
        if (NiftiHeader.Detect(block) is not var (version, bigEndian))
            throw input.Fail($"not a NIfTI or Analyze file: sizeof_hdr is {BinaryPrimitives.ReadInt32LittleEndian(block)} (expected 348 for NIfTI-1/Analyze or 540 for NIfTI-2, in either byte order)");
        if (n < NiftiHeader.Nifti1Size)
            throw input.Fail($"file ends after {n} bytes, inside the {NiftiHeader.SizeOf(version)}-byte header");
        if (version == 2)
            input.ReadExactly(block.AsSpan(NiftiHeader.Nifti1Size, NiftiHeader.Nifti2Size - NiftiHeader.Nifti1Size), "the 540-byte NIfTI-2 header");
        return NiftiHeader.Parse(block, version, bigEndian);
    }

    private static bool IsGzipName(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    private static bool IsNiftiMagic(NiftiHeader h) =>
        h.Version == 1 ? h.Magic is "n+1" or "ni1" : h.Magic is "n+2" or "ni2";

    private static string Quote(string magic) =>
        "\"" + new string(magic.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray()) + "\"";

    /// <summary>Skips to the data, reads it, fixes the byte order and wraps it in a volume.</summary>
    private static Volume ReadVoxels(VolumeHeader header, VolumeInput input)
    {
        var bytes = DataLayout.CheckFits(header, input);
        if (input.Position > header.DataOffset)
            throw input.Fail($"vox_offset={header.DataOffset} points back into the header");
        input.SkipTo(header.DataOffset, "the voxel data");
        var data = input.ReadVoxels(bytes, $"voxel data ({DataLayout.ShapeText(header.Shape)} {header.DataType.Name()})");
        try
        {
            if (header.BigEndian) ByteSwap.InPlace(data.Data, header.DataType.Size());
            return new Volume(data.Array, data.Length, data.Pooled, header.DataType, DataLayout.VolumeShape(header.Shape), header.Geometry, header.Slope, header.Intercept, header.Zooms.ToArray());
        }
        catch
        {
            if (data.Pooled) VolumeBufferPool.Return(data.Array);
            throw;
        }
    }

    /// <summary>
    /// The header path and the image paths to try for a pair named by <paramref name="path"/>
    /// (.hdr, .img, optionally .gz; the partner's extension keeps the case of the given one, and the
    /// partner is looked for with the same compression first, then the other).
    /// </summary>
    public static (string Header, string[] Images) PairPaths(string path)
    {
        var gz = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        var gzExt = gz ? path[^3..] : "";
        var stem = gz ? path[..^3] : path;
        var ext = Path.GetExtension(stem);
        var baseName = stem[..^ext.Length];
        string Partner(string from, string lower) => from.All(c => !char.IsLetter(c) || char.IsUpper(c)) ? lower.ToUpperInvariant() : lower;
        string[] WithGz(string p) => gz ? [p + gzExt, p] : [p, p + ".gz"];
        if (ext.Equals(".img", StringComparison.OrdinalIgnoreCase))
        {
            var hdr = WithGz(baseName + Partner(ext, ".hdr")).FirstOrDefault(File.Exists) ?? baseName + Partner(ext, ".hdr") + gzExt;
            return (hdr, [path]);
        }
        return (path, WithGz(baseName + Partner(ext, ".img")));
    }
}
