using System.Buffers.Binary;
using System.Text;

namespace MedZoo.Engine.IO.Nifti;

/// <summary>
/// The fields of a NIfTI-1 (348-byte, also Analyze 7.5) or NIfTI-2 (540-byte) header, as stored:
/// no validation or interpretation here (see <see cref="NiftiInterpreter"/>). Values are widened to
/// long/double so one type serves both versions; a NIfTI-1 float32 field read and written back is
/// unchanged because every float32 is exactly a double.
/// </summary>
internal sealed class NiftiHeader
{
    public const int Nifti1Size = 348;
    public const int Nifti2Size = 540;

    /// <summary>1 for the 348-byte layout (NIfTI-1 and Analyze), 2 for the 540-byte one.</summary>
    public int Version { get; set; } = 1;

    public bool BigEndian { get; set; }

    /// <summary>Magic without trailing NULs ("n+1", "ni1", "n+2", "ni2"; empty or junk for Analyze).</summary>
    public string Magic { get; set; } = "";

    /// <summary>NIfTI-2 bytes 8..11, which must be \r\n\x1a\n (or all zero from old writers).</summary>
    public byte[] EolCheck { get; set; } = [13, 10, 26, 10];

    public long[] Dim { get; } = new long[8];
    public double[] PixDim { get; } = new double[8];
    public int DataType { get; set; }
    public int BitPix { get; set; }
    public double VoxOffset { get; set; }
    public double SclSlope { get; set; }
    public double SclInter { get; set; }
    public double CalMax { get; set; }
    public double CalMin { get; set; }
    public int QformCode { get; set; }
    public int SformCode { get; set; }
    public double QuaternB { get; set; }
    public double QuaternC { get; set; }
    public double QuaternD { get; set; }
    public double QoffsetX { get; set; }
    public double QoffsetY { get; set; }
    public double QoffsetZ { get; set; }
    public double[] SrowX { get; } = new double[4];
    public double[] SrowY { get; } = new double[4];
    public double[] SrowZ { get; } = new double[4];
    public int XyztUnits { get; set; }
    public string Description { get; set; } = "";

    /// <summary>Analyze/NIfTI-1 glmax, glmin (SPM2 scaling fallback; FreeSurfer's long-vector length).</summary>
    public int GlMax { get; set; }
    public int GlMin { get; set; }

    /// <summary>SPM's voxel origin (1-based), Analyze's originator field read as int16[5] at byte 253.</summary>
    public short[] SpmOrigin { get; } = new short[5];

    /// <summary>Header size of <paramref name="version"/>.</summary>
    public static int SizeOf(int version) => version == 2 ? Nifti2Size : Nifti1Size;

    /// <summary>
    /// Version and byte order from sizeof_hdr (the first int32): 348 or 540 in either byte order;
    /// null when it is neither.
    /// </summary>
    public static (int Version, bool BigEndian)? Detect(ReadOnlySpan<byte> first4)
    {
        var le = BinaryPrimitives.ReadInt32LittleEndian(first4);
        var be = BinaryPrimitives.ReadInt32BigEndian(first4);
        return le switch
        {
            Nifti1Size => (1, false),
            Nifti2Size => (2, false),
            _ => be switch
            {
                Nifti1Size => (1, true),
                Nifti2Size => (2, true),
                _ => null,
            },
        };
    }

    /// <summary>Parses a header block of <see cref="SizeOf"/>(<paramref name="version"/>) bytes.</summary>
    public static NiftiHeader Parse(ReadOnlySpan<byte> block, int version, bool bigEndian)
    {
        var r = new Fields(bigEndian);
        var h = new NiftiHeader { Version = version, BigEndian = bigEndian };
        if (version == 1)
        {
            for (var i = 0; i < 8; i++) h.Dim[i] = r.I16(block, 40 + 2 * i);
            h.DataType = r.I16(block, 70);
            h.BitPix = r.I16(block, 72);
            for (var i = 0; i < 8; i++) h.PixDim[i] = r.F32(block, 76 + 4 * i);
            h.VoxOffset = r.F32(block, 108);
            h.SclSlope = r.F32(block, 112);
            h.SclInter = r.F32(block, 116);
            h.XyztUnits = block[123];
            h.CalMax = r.F32(block, 124);
            h.CalMin = r.F32(block, 128);
            h.GlMax = r.I32(block, 140);
            h.GlMin = r.I32(block, 144);
            h.Description = Text(block.Slice(148, 80));
            for (var i = 0; i < 5; i++) h.SpmOrigin[i] = r.I16(block, 253 + 2 * i);
            h.QformCode = r.I16(block, 252);
            h.SformCode = r.I16(block, 254);
            h.QuaternB = r.F32(block, 256);
            h.QuaternC = r.F32(block, 260);
            h.QuaternD = r.F32(block, 264);
            h.QoffsetX = r.F32(block, 268);
            h.QoffsetY = r.F32(block, 272);
            h.QoffsetZ = r.F32(block, 276);
            for (var i = 0; i < 4; i++)
            {
                h.SrowX[i] = r.F32(block, 280 + 4 * i);
                h.SrowY[i] = r.F32(block, 296 + 4 * i);
                h.SrowZ[i] = r.F32(block, 312 + 4 * i);
            }
            h.Magic = Text(block.Slice(344, 4));
        }
        else
        {
            h.Magic = Text(block.Slice(4, 4));
            h.EolCheck = block.Slice(8, 4).ToArray();
            h.DataType = r.I16(block, 12);
            h.BitPix = r.I16(block, 14);
            for (var i = 0; i < 8; i++) h.Dim[i] = r.I64(block, 16 + 8 * i);
            for (var i = 0; i < 8; i++) h.PixDim[i] = r.F64(block, 104 + 8 * i);
            h.VoxOffset = r.I64(block, 168);
            h.SclSlope = r.F64(block, 176);
            h.SclInter = r.F64(block, 184);
            h.CalMax = r.F64(block, 192);
            h.CalMin = r.F64(block, 200);
            h.Description = Text(block.Slice(240, 80));
            h.QformCode = r.I32(block, 344);
            h.SformCode = r.I32(block, 348);
            h.QuaternB = r.F64(block, 352);
            h.QuaternC = r.F64(block, 360);
            h.QuaternD = r.F64(block, 368);
            h.QoffsetX = r.F64(block, 376);
            h.QoffsetY = r.F64(block, 384);
            h.QoffsetZ = r.F64(block, 392);
            for (var i = 0; i < 4; i++)
            {
                h.SrowX[i] = r.F64(block, 400 + 8 * i);
                h.SrowY[i] = r.F64(block, 432 + 8 * i);
                h.SrowZ[i] = r.F64(block, 464 + 8 * i);
            }
            h.XyztUnits = r.I32(block, 500);
        }
        return h;
    }

    /// <summary>The header as stored (NIfTI-1 or -2 layout by <see cref="Version"/>).</summary>
    public byte[] ToBytes()
    {
        var block = new byte[SizeOf(Version)];
        var w = new Fields(BigEndian);
        if (Version == 1)
        {
            w.I32(block, 0, Nifti1Size);
            block[38] = (byte)'r'; // Analyze "regular", still expected by some old readers
            for (var i = 0; i < 8; i++) w.I16(block, 40 + 2 * i, checked((short)Dim[i]));
            w.I16(block, 70, (short)DataType);
            w.I16(block, 72, (short)BitPix);
            for (var i = 0; i < 8; i++) w.F32(block, 76 + 4 * i, PixDim[i]);
            w.F32(block, 108, VoxOffset);
            w.F32(block, 112, SclSlope);
            w.F32(block, 116, SclInter);
            block[123] = (byte)XyztUnits;
            w.F32(block, 124, CalMax);
            w.F32(block, 128, CalMin);
            PutText(block.AsSpan(148, 80), Description);
            w.I16(block, 252, (short)QformCode);
            w.I16(block, 254, (short)SformCode);
            w.F32(block, 256, QuaternB);
            w.F32(block, 260, QuaternC);
            w.F32(block, 264, QuaternD);
            w.F32(block, 268, QoffsetX);
            w.F32(block, 272, QoffsetY);
            w.F32(block, 276, QoffsetZ);
            for (var i = 0; i < 4; i++)
            {
                w.F32(block, 280 + 4 * i, SrowX[i]);
                w.F32(block, 296 + 4 * i, SrowY[i]);
                w.F32(block, 312 + 4 * i, SrowZ[i]);
            }
            PutText(block.AsSpan(344, 4), Magic);
        }
        else
        {
            w.I32(block, 0, Nifti2Size);
            PutText(block.AsSpan(4, 4), Magic);
            EolCheck.CopyTo(block.AsSpan(8, 4));
            w.I16(block, 12, (short)DataType);
            w.I16(block, 14, (short)BitPix);
            for (var i = 0; i < 8; i++) w.I64(block, 16 + 8 * i, Dim[i]);
            for (var i = 0; i < 8; i++) w.F64(block, 104 + 8 * i, PixDim[i]);
            w.I64(block, 168, (long)VoxOffset);
            w.F64(block, 176, SclSlope);
            w.F64(block, 184, SclInter);
            w.F64(block, 192, CalMax);
            w.F64(block, 200, CalMin);
            PutText(block.AsSpan(240, 80), Description);
            w.I32(block, 344, QformCode);
            w.I32(block, 348, SformCode);
            w.F64(block, 352, QuaternB);
            w.F64(block, 360, QuaternC);
            w.F64(block, 368, QuaternD);
            w.F64(block, 376, QoffsetX);
            w.F64(block, 384, QoffsetY);
            w.F64(block, 392, QoffsetZ);
            for (var i = 0; i < 4; i++)
            {
                w.F64(block, 400 + 8 * i, SrowX[i]);
                w.F64(block, 432 + 8 * i, SrowY[i]);
                w.F64(block, 464 + 8 * i, SrowZ[i]);
            }
            w.I32(block, 500, XyztUnits);
        }
        return block;
    }

    private static string Text(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOf((byte)0);
        if (end >= 0) bytes = bytes[..end];
        // Latin-1 keeps every byte (descrip is free text from arbitrary writers).
        return Encoding.Latin1.GetString(bytes);
    }

    private static void PutText(Span<byte> dest, string text)
    {
        var n = Math.Min(dest.Length - 1, text.Length);
        for (var i = 0; i < n; i++) dest[i] = text[i] < 256 ? (byte)text[i] : (byte)'?';
    }

    /// <summary>Endian-aware field access.</summary>
    private readonly struct Fields(bool bigEndian)
    {
        public short I16(ReadOnlySpan<byte> b, int o) => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(b[o..]) : BinaryPrimitives.ReadInt16LittleEndian(b[o..]);
        public int I32(ReadOnlySpan<byte> b, int o) => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(b[o..]) : BinaryPrimitives.ReadInt32LittleEndian(b[o..]);
        public long I64(ReadOnlySpan<byte> b, int o) => bigEndian ? BinaryPrimitives.ReadInt64BigEndian(b[o..]) : BinaryPrimitives.ReadInt64LittleEndian(b[o..]);
        public double F32(ReadOnlySpan<byte> b, int o) => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(b[o..]) : BinaryPrimitives.ReadSingleLittleEndian(b[o..]);
        public double F64(ReadOnlySpan<byte> b, int o) => bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(b[o..]) : BinaryPrimitives.ReadDoubleLittleEndian(b[o..]);

        public void I16(Span<byte> b, int o, short v) { if (bigEndian) BinaryPrimitives.WriteInt16BigEndian(b[o..], v); else BinaryPrimitives.WriteInt16LittleEndian(b[o..], v); }
        public void I32(Span<byte> b, int o, int v) { if (bigEndian) BinaryPrimitives.WriteInt32BigEndian(b[o..], v); else BinaryPrimitives.WriteInt32LittleEndian(b[o..], v); }
        public void I64(Span<byte> b, int o, long v) { if (bigEndian) BinaryPrimitives.WriteInt64BigEndian(b[o..], v); else BinaryPrimitives.WriteInt64LittleEndian(b[o..], v); }
        public void F32(Span<byte> b, int o, double v) { if (bigEndian) BinaryPrimitives.WriteSingleBigEndian(b[o..], (float)v); else BinaryPrimitives.WriteSingleLittleEndian(b[o..], (float)v); }
        public void F64(Span<byte> b, int o, double v) { if (bigEndian) BinaryPrimitives.WriteDoubleBigEndian(b[o..], v); else BinaryPrimitives.WriteDoubleLittleEndian(b[o..], v); }
    }
}
