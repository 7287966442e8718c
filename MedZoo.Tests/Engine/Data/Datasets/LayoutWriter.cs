using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MedZoo.Engine.Data;
using MedZoo.Engine.IO;

namespace MedZoo.Tests.Engine.Data.Datasets;

/// <summary>
/// Writes small volumes into dataset layouts for the loader tests: NIfTI through the I/O layer's
/// writer, and genuine Analyze 7.5 pairs (no NIfTI magic, as iSeg distributes them) with a
/// hand-written 348-byte header, because the I/O layer writes .hdr/.img as NIfTI pairs.
/// Arrays are C-order over (D, H, W); files store them x fastest, so shape (X, Y, Z) = (W, H, D).
/// </summary>
internal static class LayoutWriter
{
    /// <summary>Writes a 3D (or, with several channels, 4D) NIfTI file.</summary>
    public static string Nifti<T>(string path, T[] data, SpatialSize size, int channels = 1, double spacing = 1, double originX = 0) where T : unmanaged
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        int[] shape = channels == 1 ? [size.W, size.H, size.D] : [size.W, size.H, size.D, channels];
        var volume = Volume.FromArray<T>(data, shape, VolumeGeometry.FromSpacing(spacing, spacing, spacing, originX));
        VolumeIO.Write(volume, path);
        return path;
    }

    /// <summary>Writes an Analyze 7.5 pair <paramref name="hdrPath"/> + .img (int16 or uint8 voxels, little-endian).</summary>
    public static string Analyze<T>(string hdrPath, T[] data, SpatialSize size, double spacing = 1) where T : unmanaged
    {
        Directory.CreateDirectory(Path.GetDirectoryName(hdrPath)!);
        var (datatype, bitpix) = typeof(T) == typeof(short) ? ((short)4, (short)16)
            : typeof(T) == typeof(byte) ? ((short)2, (short)8)
            : throw new NotSupportedException($"the test writer does Analyze int16 and uint8, not {typeof(T).Name}");
        var h = new byte[348];
        var s = h.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(s[0..], 348);          // sizeof_hdr
        BinaryPrimitives.WriteInt32LittleEndian(s[32..], 16384);       // extents
        h[38] = (byte)'r';                                             // regular
        short[] dim = [3, (short)size.W, (short)size.H, (short)size.D, 1, 0, 0, 0];
        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteInt16LittleEndian(s[(40 + 2 * i)..], dim[i]);
        BinaryPrimitives.WriteInt16LittleEndian(s[70..], datatype);
        BinaryPrimitives.WriteInt16LittleEndian(s[72..], bitpix);
        float[] pixdim = [0, (float)spacing, (float)spacing, (float)spacing, 0, 0, 0, 0];
        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteSingleLittleEndian(s[(76 + 4 * i)..], pixdim[i]);
        BinaryPrimitives.WriteSingleLittleEndian(s[108..], 0);        // vox_offset
        // Bytes 344..347 (NIfTI's magic) stay zero: this is plain Analyze.
        File.WriteAllBytes(hdrPath, h);
        File.WriteAllBytes(Path.ChangeExtension(hdrPath, ".img"), MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
        return hdrPath;
    }

    /// <summary>
    /// A labelled pattern for <paramref name="size"/>: slabs of the raw label values in turn along D
    /// (so every value occurs), and an image per modality whose value encodes (subject marker, modality,
    /// class) so tests can tell which file a voxel came from.
    /// </summary>
    public static (byte[] Label, Func<int, float[]> Image) Pattern(SpatialSize size, IReadOnlyList<int> rawValues, int marker)
    {
        var n = (int)size.Voxels;
        var classOf = new int[n];
        var label = new byte[n];
        for (var d = 0; d < size.D; d++)
            for (var i = 0; i < size.H * size.W; i++)
            {
                var k = (d + i / size.W) % rawValues.Count;
                classOf[d * size.H * size.W + i] = k;
                label[d * size.H * size.W + i] = (byte)rawValues[k];
            }
        return (label, modality => classOf.Select(k => (float)(1000 * marker + 100 * modality + k + 1)).ToArray());
    }
}
