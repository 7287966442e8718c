using System.Globalization;
using System.Text;
using MedZoo.Engine.IO.Streams;

namespace MedZoo.Engine.IO.MetaImage;

/// <summary>
/// Writes MetaImage: .mha with the voxels after the header (ElementDataFile = LOCAL) or .mhd with
/// a .raw (.zraw when compressed) file of the same name beside it. The RAS affine is converted to
/// ITK's LPS Offset/TransformMatrix/ElementSpacing (the inverse of <see cref="MetaImageReader"/>),
/// numbers are written in shortest round-trip form, and a scaled volume keeps its raw values with
/// ElementToIntensityFunctionSlope/Offset (MetaIO fields ITK itself ignores). A volume with fewer
/// than three dimensions is written as 3D (DimSize padded with 1). With CompressedData the voxels
/// are one zlib stream and CompressedDataSize is filled in after compressing, in a fixed-width
/// field, so nothing is buffered in memory.
/// </summary>
internal static class MetaImageWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const int SizeFieldWidth = 20;

    public static void Write(Volume volume, string path, VolumeWriteOptions options)
    {
        var mha = path.EndsWith(".mha", StringComparison.OrdinalIgnoreCase);
        var g = volume.Geometry;
        for (var c = 0; c < 3; c++)
            if (!(g.Spacing[c] > 0))
                throw new ArgumentException($"{Path.GetFileName(path)}: spacing[{c}] = {g.Spacing[c]} must be positive to write MetaImage", nameof(volume));

        var shape = volume.Shape.ToList();
        var zooms = volume.Zooms.ToList();
        while (shape.Count < 3)
        {
            shape.Add(1);
            zooms.Add(g.Spacing[zooms.Count]);
        }
        var channels = 1;
        if (options.MetaImageVectorChannels && shape.Count > 3)
        {
            channels = volume.Channels;
            shape = shape.Take(3).ToList();
            zooms = zooms.Take(3).ToList();
        }
        var n = shape.Count;

        var a = g.Affine;
        var matrix = new double[n * n];
        var offset = new double[n];
        for (var c = 0; c < n; c++)
        {
            for (var r = 0; r < n; r++)
            {
                double v;
                if (r < 3 && c < 3)
                {
                    var lps = r < 2 ? 0.0 - a[r * 4 + c] : a[r * 4 + c];
                    v = lps / g.Spacing[c];
                }
                else
                {
                    v = r == c ? 1 : 0;
                }
                matrix[c * n + r] = v;
            }
            offset[c] = c < 3 ? (c < 2 ? 0.0 - a[c * 4 + 3] : a[c * 4 + 3]) : 0;
        }
        // MetaImage spacing must be positive; NIfTI often has 0 for a time step it does not know.
        double[] spacing = [.. g.Spacing, .. zooms.Skip(3).Select(z => double.IsFinite(z) && z > 0 ? z : 1)];

        var dataName = Path.GetFileNameWithoutExtension(path) + (options.Compress ? ".zraw" : ".raw");
        var lines = new List<string>
        {
            "ObjectType = Image",
            $"NDims = {n}",
            "BinaryData = True",
            $"BinaryDataByteOrderMSB = {(options.BigEndian ? "True" : "False")}",
            $"CompressedData = {(options.Compress ? "True" : "False")}",
        };
        var sizeLine = -1;
        if (options.Compress)
        {
            sizeLine = lines.Count;
            lines.Add("CompressedDataSize = " + new string(' ', SizeFieldWidth));
        }
        lines.Add($"TransformMatrix = {Numbers(matrix)}");
        lines.Add($"Offset = {Numbers(offset)}");
        lines.Add($"CenterOfRotation = {string.Join(" ", Enumerable.Repeat("0", n))}");
        lines.Add($"ElementSpacing = {Numbers(spacing)}");
        lines.Add($"DimSize = {string.Join(" ", shape.Select(d => d.ToString(Inv)))}");
        if (channels > 1) lines.Add($"ElementNumberOfChannels = {channels}");
        if (volume.IsScaled)
        {
            lines.Add($"ElementToIntensityFunctionSlope = {volume.Slope.ToString("R", Inv)}");
            lines.Add($"ElementToIntensityFunctionOffset = {volume.Intercept.ToString("R", Inv)}");
        }
        lines.Add($"ElementType = {MetaImageTypes.Name(volume.DataType)}");
        lines.Add($"ElementDataFile = {(mha ? "LOCAL" : dataName)}");

        var headerText = string.Concat(lines.Select(l => l + "\n"));
        var headerBytes = Encoding.ASCII.GetBytes(headerText);
        var sizeFieldAt = sizeLine < 0 ? -1 : Encoding.ASCII.GetByteCount(string.Concat(lines.Take(sizeLine + 1).Select(l => l + "\n"))) - 1 - SizeFieldWidth;

        if (mha)
        {
            using var output = VolumeOutput.Create(path);
            output.Write(headerBytes);
            var size = WriteVoxels(output, volume, channels, options);
            if (size is { } s) Patch(output, sizeFieldAt, s);
            output.Commit();
            return;
        }
        var rawPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, dataName);
        using var raw = VolumeOutput.Create(rawPath);
        var compressedSize = WriteVoxels(raw, volume, channels, options);
        using var hdr = VolumeOutput.Create(path);
        hdr.Write(headerBytes);
        if (compressedSize is { } cs) Patch(hdr, sizeFieldAt, cs);
        raw.Commit();
        hdr.Commit();
    }

    /// <summary>Writes the voxels; returns the compressed size when compressing.</summary>
    private static long? WriteVoxels(VolumeOutput output, Volume volume, int channels, VolumeWriteOptions options)
    {
        var start = output.File.Position;
        if (options.Compress) output.StartCompression(options.CompressionLevel);
        if (channels > 1) output.WriteInterleaved(volume.RawBytes, volume.DataType.Size(), channels, options.BigEndian);
        else output.WriteData(volume.RawBytes, volume.DataType.Size(), options.BigEndian);
        return options.Compress ? output.EndCompression(start) : null;
    }

    private static void Patch(VolumeOutput output, long at, long size)
    {
        var end = output.File.Position;
        output.File.Position = at;
        output.File.Write(Encoding.ASCII.GetBytes(size.ToString(Inv).PadLeft(SizeFieldWidth)));
        output.File.Position = end;
    }

    private static string Numbers(IEnumerable<double> values) =>
        string.Join(" ", values.Select(v => (v + 0.0).ToString("R", Inv)));
}
