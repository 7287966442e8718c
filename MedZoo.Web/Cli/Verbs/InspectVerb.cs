using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MedZoo.Engine.IO;

namespace MedZoo.Web.Cli.Verbs;

/// <summary>
/// `medzoo inspect FILE [--json]`: what a volume file holds — format, storage type, shape as the
/// header declares it, zooms, the voxel-to-RAS affine and orientation, the value scaling and
/// statistics over the finite scaled voxels of all channels (min, max, mean, sum) with the NaN
/// count. The numbers are nibabel's (shape = img.shape, spacing = header.get_zooms(), affine =
/// img.affine), so the JSON can be compared with nibabel directly. A file that cannot be read
/// prints one line naming the file and the problem and exits 1.
/// </summary>
public sealed class InspectVerb : ICliVerb
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public string Name => "inspect";

    public string Summary => "describe a volume file: format, shape, spacing, affine, value statistics";

    public bool NeedsTorch => false;

    private readonly Argument<string[]> _files = new("FILE") { Description = "the volume file (.nii, .nii.gz, .hdr/.img, .mha, .mhd)", Arity = ArgumentArity.ZeroOrMore };
    private readonly Option<bool> _json = CliOptions.Flag("json", "print one JSON object instead of text");

    public IEnumerable<Symbol> Symbols => [_files, _json];

    public int Run(ParseResult args, CliContext context)
    {
        var files = args.GetValue(_files) ?? [];
        if (files.Length != 1)
            throw new CliUsageException(files.Length == 0 ? "FILE is required" : $"expected one FILE, got {files.Length}");
        var path = files[0];
        var volume = VolumeIO.Read(path, out var header);
        context.Cancellation.ThrowIfCancellationRequested();
        var stats = volume.ComputeStatistics();
        context.Out.Write(args.GetValue(_json) ? Json(header, volume, stats) : Text(header, volume, stats));
        return 0;
    }

    /// <summary>The `--json` object (one line, then a newline).</summary>
    public static string Json(VolumeHeader header, Volume volume, VoxelStatistics stats)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("file", header.Path);
            w.WriteString("dataFile", header.DataPath);
            w.WriteString("format", header.Format.Name());
            w.WriteString("datatype", header.DataType.Name());
            w.WriteString("byteOrder", header.BigEndian ? "big" : "little");
            w.WriteBoolean("compressed", header.Compressed);
            w.WriteStartArray("shape");
            foreach (var d in header.Shape) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteStartArray("spacing");
            foreach (var z in header.Zooms) Number(w, z);
            w.WriteEndArray();
            w.WriteStartArray("affine");
            foreach (var row in volume.Geometry.AffineRows)
            {
                w.WriteStartArray();
                foreach (var v in row) Number(w, v);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteString("orientation", volume.Geometry.Orientation);
            w.WriteString("space", volume.Geometry.Space.ToString());
            w.WriteNumber("slope", volume.Slope);
            w.WriteNumber("intercept", volume.Intercept);
            w.WriteNumber("count", volume.Count);
            w.WriteNumber("channels", volume.Channels);
            w.WritePropertyName("min"); Number(w, stats.Min);
            w.WritePropertyName("max"); Number(w, stats.Max);
            w.WritePropertyName("mean"); Number(w, stats.Mean);
            w.WritePropertyName("sum"); Number(w, stats.Sum);
            w.WriteNumber("nanCount", stats.NanCount);
            w.WriteNumber("finiteCount", stats.FiniteCount);
            w.WriteString("description", header.Description);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    // JSON has no NaN/Infinity: a value that is not finite (no finite voxel at all) is null.
    private static void Number(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v)) w.WriteNumberValue(v);
        else w.WriteNullValue();
    }

    /// <summary>The human-readable summary.</summary>
    public static string Text(VolumeHeader header, Volume volume, VoxelStatistics stats)
    {
        var g = volume.Geometry;
        var sb = new StringBuilder();
        var storage = new List<string> { header.BigEndian ? "big-endian" : "little-endian" };
        if (header.Compressed) storage.Add(header.Format == VolumeFileFormat.MetaImage ? "zlib" : "gzip");
        if (!string.Equals(header.DataPath, header.Path, StringComparison.Ordinal)) storage.Add("data in " + Path.GetFileName(header.DataPath));
        var formatName = header.Format switch
        {
            VolumeFileFormat.Nifti1 => "NIfTI-1",
            VolumeFileFormat.Nifti2 => "NIfTI-2",
            VolumeFileFormat.Analyze => "Analyze 7.5",
            _ => "MetaImage",
        };
        sb.AppendLine(header.Path);
        Line(sb, "format", $"{formatName} ({string.Join(", ", storage)})");
        Line(sb, "datatype", header.DataType.Name());
        Line(sb, "shape", string.Join(" × ", header.Shape) + (volume.Channels > 1 ? $"  ({volume.Channels} channels of {volume.Size.X} × {volume.Size.Y} × {volume.Size.Z})" : ""));
        Line(sb, "spacing", string.Join(" × ", header.Zooms.Select(F)));
        Line(sb, "orientation", g.Space == WorldSpace.Unknown ? g.Orientation : $"{g.Orientation} ({g.Space} space)");
        var rows = g.AffineRows;
        for (var r = 0; r < 4; r++)
            Line(sb, r == 0 ? "affine" : "", string.Join(" ", rows[r].Select(v => v.ToString("0.0000", Inv).PadLeft(11))));
        Line(sb, "scaling", volume.IsScaled ? $"value = stored × {F(volume.Slope)} + {F(volume.Intercept)}" : "none");
        Line(sb, "voxels", $"{N(volume.Count)} ({N(stats.FiniteCount)} finite, {N(stats.NanCount)} NaN)");
        Line(sb, "values", stats.FiniteCount == 0
            ? "no finite values"
            : $"min {F(stats.Min)}  max {F(stats.Max)}  mean {F(stats.Mean)}  sum {F(stats.Sum)}");
        if (header.Description.Length > 0) Line(sb, "description", header.Description);
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string label, string value) => sb.Append("  ").Append(label.PadRight(12)).AppendLine(value);

    private static string F(double v) => v.ToString("G6", Inv);

    private static string N(long v) => v.ToString("N0", Inv).Replace(",", " ", StringComparison.Ordinal);
}
