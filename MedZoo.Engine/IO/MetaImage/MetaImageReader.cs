using MedZoo.Engine.IO.Streams;

namespace MedZoo.Engine.IO.MetaImage;

/// <summary>
/// Reads MetaImage (.mha with LOCAL data, .mhd with a separate raw/zraw file), uncompressed or
/// zlib-compressed (CompressedData = True). Geometry follows ITK: the world point of index p is
/// Offset + D·diag(ElementSpacing)·p in LPS, where D's columns are the axis directions (the
/// TransformMatrix values grouped per axis); the volume's affine is that mapping converted to RAS
/// (x and y negated). Offset has the synonyms Origin/Position and TransformMatrix the synonyms
/// Rotation/Orientation, as in MetaIO. Multi-component pixels (ElementNumberOfChannels) are
/// de-interleaved into channels, appended as the last dimension of the shape (after padding the
/// spatial dimensions to three, so a 2D vector image is (X, Y, 1, C)).
/// </summary>
internal static class MetaImageReader
{
    private static readonly string[] OffsetKeys = ["Offset", "Origin", "Position"];
    private static readonly string[] MatrixKeys = ["TransformMatrix", "Rotation", "Orientation"];

    public static (VolumeHeader Header, Volume? Volume) Read(string path, bool headerOnly)
    {
        VolumeInput? input = VolumeInput.OpenRegion(path, 0, null, zlib: false);
        try
        {
            var mh = MetaImageHeader.Read(input);
            var plan = Interpret(mh, path);
            if (headerOnly)
            {
                DataLayout.CheckComputable(plan.Header);
                return (plan.Header, null);
            }

            var header = plan.Header;
            var local = plan.DataFile is null;
            var dataPath = plan.DataFile ?? path;
            if (!local)
            {
                input.Dispose();
                input = null;
                if (!File.Exists(dataPath))
                    throw new VolumeFormatException(path, $"data file {Path.GetFileName(dataPath)} named by ElementDataFile not found");
            }
            long bytes;
            byte[] data;
            if (plan.Compressed)
            {
                input?.Dispose();
                input = null;
                if (plan.HeaderSize == -1)
                    throw new VolumeFormatException(path, "HeaderSize = -1 (data at the end of the file) cannot be used with CompressedData = True");
                var offset = plan.HeaderSize > 0 ? plan.HeaderSize : local ? mh.EndOffset : 0;
                using var zin = VolumeInput.OpenRegion(dataPath, offset, plan.CompressedSize, zlib: true);
                bytes = DataLayout.CheckFits(header with { DataOffset = 0 }, zin);
                data = zin.ReadData(bytes, "voxel data");
            }
            else
            {
                input ??= VolumeInput.OpenRegion(dataPath, 0, null, zlib: false);
                var total = DataLayout.Bytes(header.Shape, header.DataType.Size()) ?? long.MaxValue;
                long offset = plan.HeaderSize switch
                {
                    -1 => input.MaxLength - total,
                    > 0 => plan.HeaderSize,
                    _ => local ? mh.EndOffset : 0,
                };
                if (offset < 0)
                    throw input.Fail($"HeaderSize = -1 puts the data at the end of the file, but the file has only {input.MaxLength} bytes for {total} bytes of voxels");
                if (offset < input.Position)
                    throw input.Fail($"HeaderSize = {plan.HeaderSize} points into the {mh.EndOffset}-byte text header");
                header = header with { DataOffset = offset };
                bytes = DataLayout.CheckFits(header, input);
                input.SkipTo(offset, "the voxel data");
                data = input.ReadData(bytes, "voxel data");
            }
            if (header.BigEndian) ByteSwap.InPlace(data, header.DataType.Size());
            if (plan.Channels > 1) data = Deinterleave(data, header.DataType.Size(), plan.Channels);
            var volume = new Volume(data, header.DataType, DataLayout.VolumeShape(header.Shape), header.Geometry, header.Slope, header.Intercept, header.Zooms.ToArray());
            return (header with { DataPath = dataPath }, volume);
        }
        finally
        {
            input?.Dispose();
        }
    }

    private sealed record Plan(VolumeHeader Header, string? DataFile, bool Compressed, long? CompressedSize, long HeaderSize, int Channels);

    private static Plan Interpret(MetaImageHeader mh, string path)
    {
        VolumeFormatException Fail(string problem) => new(path, problem);

        if (mh.String("ObjectType") is { } objectType && !objectType.Equals("Image", StringComparison.OrdinalIgnoreCase))
            throw Fail($"MetaImage ObjectType = {objectType} is not an image");
        var ndims = mh.Long("NDims", -1);
        if (!mh.Has("NDims")) throw Fail("MetaImage header has no NDims (required)");
        var channels = mh.Long("ElementNumberOfChannels", 1);
        if (channels is < 1 or > 65535)
            throw Fail($"MetaImage ElementNumberOfChannels = {channels} must be between 1 and 65535");
        var maxDims = channels > 1 ? 6 : 7;
        if (ndims < 1 || ndims > maxDims)
            throw Fail($"MetaImage NDims = {ndims} must be between 1 and {maxDims}{(channels > 1 ? " with ElementNumberOfChannels > 1" : "")}");
        var n = (int)ndims;
        var dimSize = mh.Longs("DimSize", n);
        for (var i = 0; i < n; i++)
            if (dimSize[i] <= 0)
                throw Fail($"MetaImage DimSize[{i}] = {dimSize[i]} must be positive");

        var typeName = mh.Required("ElementType");
        if (!MetaImageTypes.TryParse(typeName, out var type))
            throw Fail(MetaImageTypes.IsKnownUnsupported(typeName)
                ? $"unsupported MetaImage ElementType {typeName}; MedZoo reads the numeric MET_* types (MET_UCHAR ... MET_DOUBLE)"
                : $"unknown MetaImage ElementType \"{typeName}\"");

        if (!mh.Bool("BinaryData", true))
            throw Fail("MetaImage BinaryData = False (voxels as ASCII text) is not supported");
        var bigEndian = mh.Has("BinaryDataByteOrderMSB") ? mh.Bool("BinaryDataByteOrderMSB", false) : mh.Bool("ElementByteOrderMSB", false);
        var compressed = mh.Bool("CompressedData", false);
        long? compressedSize = mh.Has("CompressedDataSize") ? mh.Long("CompressedDataSize", 0) : null;
        if (compressedSize is < 0) throw Fail($"MetaImage CompressedDataSize = {compressedSize} must not be negative");
        if (compressedSize == 0) compressedSize = null; // MetaIO writes 0 for "unknown"
        var headerSize = mh.Long("HeaderSize", 0);
        if (headerSize < -1) throw Fail($"MetaImage HeaderSize = {headerSize} must be -1 (data at the end), 0 or a byte count");

        var spacing = mh.Doubles(n, "ElementSpacing") ?? mh.Doubles(n, "ElementSize") ?? Enumerable.Repeat(1.0, n).ToArray();
        for (var i = 0; i < n; i++)
            if (!(spacing[i] > 0))
                throw Fail($"MetaImage ElementSpacing[{i}] = {spacing[i]} must be positive");
        var offset = mh.Doubles(n, OffsetKeys) ?? new double[n];
        var matrix = mh.Doubles(n * n, MatrixKeys);

        var slope = mh.Doubles(1, "ElementToIntensityFunctionSlope")?[0] ?? 1;
        var intercept = mh.Doubles(1, "ElementToIntensityFunctionOffset")?[0] ?? 0;

        var dataFile = mh.Required("ElementDataFile");
        string? dataPath = null;
        if (!dataFile.Equals("LOCAL", StringComparison.OrdinalIgnoreCase))
        {
            if (dataFile.StartsWith("LIST", StringComparison.OrdinalIgnoreCase) || dataFile.Contains('%'))
                throw Fail($"MetaImage ElementDataFile = {dataFile}: multi-file data (LIST or a %d pattern) is not supported");
            dataPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, dataFile);
        }

        var geometry = Geometry(path, n, spacing, offset, matrix);
        // Components become the channel dimension, which a Volume expects after three spatial ones,
        // so a 2D vector image (X, Y) × C is (X, Y, 1, C).
        long[] shape = channels > 1 ? [.. dimSize, .. Enumerable.Repeat(1L, Math.Max(0, 3 - n)), channels] : dimSize;
        double[] zooms = channels > 1 ? [.. spacing, .. Enumerable.Repeat(1.0, Math.Max(0, 3 - n)), 1] : spacing;
        var header = new VolumeHeader
        {
            Path = path,
            DataPath = dataPath ?? path,
            Format = VolumeFileFormat.MetaImage,
            DataType = type,
            Shape = shape,
            Zooms = zooms,
            Geometry = geometry,
            Slope = slope,
            Intercept = intercept,
            BigEndian = bigEndian,
            Compressed = compressed,
            DataOffset = headerSize > 0 ? headerSize : dataPath is null ? mh.EndOffset : 0,
        };
        return new Plan(header, dataPath, compressed, compressedSize, headerSize, (int)channels);
    }

    /// <summary>The RAS affine of ITK's LPS index-to-world mapping (see the class remarks).</summary>
    private static VolumeGeometry Geometry(string path, int n, double[] spacing, double[] offset, double[]? matrix)
    {
        var a = new double[16];
        var s = new double[3];
        for (var c = 0; c < 3; c++)
        {
            s[c] = c < n ? spacing[c] : 1;
            for (var r = 0; r < 3; r++)
            {
                // Column c (image axis c) is values [c·n .. c·n+n) of TransformMatrix.
                var d = r < n && c < n ? (matrix is null ? (r == c ? 1 : 0) : matrix[c * n + r]) : (r == c ? 1 : 0);
                var lps = d * s[c];
                // 0.0 − x rather than −x: no negative zeros in the affine (they print as "-0").
                a[r * 4 + c] = r < 2 ? 0.0 - lps : lps;
            }
            var o = c < n ? offset[c] : 0;
            a[c * 4 + 3] = c < 2 ? 0.0 - o : o;
        }
        a[15] = 1;
        return DataLayout.Geometry(path, a, s);
    }

    /// <summary>(voxel, channel) interleaved → (channel, voxel) planes, the layout of <see cref="Volume"/>.</summary>
    private static byte[] Deinterleave(byte[] data, int elementSize, int channels)
    {
        var result = GC.AllocateUninitializedArray<byte>(data.Length);
        var voxels = data.Length / elementSize / channels;
        var plane = voxels * elementSize;
        var src = 0;
        for (var v = 0; v < voxels; v++)
            for (var c = 0; c < channels; c++, src += elementSize)
                data.AsSpan(src, elementSize).CopyTo(result.AsSpan(c * plane + v * elementSize));
        return result;
    }
}
