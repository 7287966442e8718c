namespace MedZoo.Engine.IO.MetaImage;

/// <summary>MetaIO element type names (MET_*) and the voxel types they store.</summary>
internal static class MetaImageTypes
{
    /// <summary>
    /// The voxel type of a MET_* name (also its MET_*_ARRAY vector form). MetaIO's MET_LONG and
    /// MET_ULONG are 32-bit; MET_LONG_LONG and MET_ULONG_LONG are 64-bit.
    /// </summary>
    public static bool TryParse(string name, out VoxelType type)
    {
        var n = name.Trim().ToUpperInvariant();
        if (n.EndsWith("_ARRAY", StringComparison.Ordinal)) n = n[..^6];
        VoxelType? t = n switch
        {
            "MET_UCHAR" => VoxelType.UInt8,
            "MET_CHAR" => VoxelType.Int8,
            "MET_USHORT" => VoxelType.UInt16,
            "MET_SHORT" => VoxelType.Int16,
            "MET_UINT" or "MET_ULONG" => VoxelType.UInt32,
            "MET_INT" or "MET_LONG" => VoxelType.Int32,
            "MET_ULONG_LONG" => VoxelType.UInt64,
            "MET_LONG_LONG" => VoxelType.Int64,
            "MET_FLOAT" => VoxelType.Float32,
            "MET_DOUBLE" => VoxelType.Float64,
            _ => null,
        };
        type = t.GetValueOrDefault();
        return t.HasValue;
    }

    /// <summary>True for MET_* names MetaIO defines that are not numeric voxel types.</summary>
    public static bool IsKnownUnsupported(string name) =>
        name.Trim().ToUpperInvariant() is "MET_NONE" or "MET_ASCII_CHAR" or "MET_STRING" or "MET_FLOAT_MATRIX" or "MET_OTHER";

    /// <summary>The MET_* name under which <paramref name="type"/> is written.</summary>
    public static string Name(VoxelType type) => type switch
    {
        VoxelType.UInt8 => "MET_UCHAR",
        VoxelType.Int8 => "MET_CHAR",
        VoxelType.UInt16 => "MET_USHORT",
        VoxelType.Int16 => "MET_SHORT",
        VoxelType.UInt32 => "MET_UINT",
        VoxelType.Int32 => "MET_INT",
        VoxelType.UInt64 => "MET_ULONG_LONG",
        VoxelType.Int64 => "MET_LONG_LONG",
        VoxelType.Float32 => "MET_FLOAT",
        VoxelType.Float64 => "MET_DOUBLE",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}
