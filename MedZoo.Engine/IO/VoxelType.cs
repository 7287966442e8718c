namespace MedZoo.Engine.IO;

/// <summary>Storage type of voxels, as read from (or to be written to) a file.</summary>
public enum VoxelType
{
    UInt8,
    Int8,
    UInt16,
    Int16,
    UInt32,
    Int32,
    UInt64,
    Int64,
    Float32,
    Float64,
}

/// <summary>Sizes and names of <see cref="VoxelType"/>.</summary>
public static class VoxelTypes
{
    /// <summary>Bytes per voxel.</summary>
    public static int Size(this VoxelType t) => t switch
    {
        VoxelType.UInt8 or VoxelType.Int8 => 1,
        VoxelType.UInt16 or VoxelType.Int16 => 2,
        VoxelType.UInt32 or VoxelType.Int32 or VoxelType.Float32 => 4,
        VoxelType.UInt64 or VoxelType.Int64 or VoxelType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown voxel type"),
    };

    /// <summary>numpy-style name (uint8, int16, float32, ...), as nibabel reports it.</summary>
    public static string Name(this VoxelType t) => t.ToString().ToLowerInvariant();

    /// <summary>True for float32/float64.</summary>
    public static bool IsFloat(this VoxelType t) => t is VoxelType.Float32 or VoxelType.Float64;
}
