namespace MedZoo.Engine.IO.Nifti;

/// <summary>NIfTI datatype codes (nifti1.h DT_*; Analyze 7.5 uses the same numbers for its subset).</summary>
internal static class NiftiDataTypes
{
    /// <summary>The voxel type stored under <paramref name="code"/>, if MedZoo supports it.</summary>
    public static bool TryGet(int code, out VoxelType type)
    {
        VoxelType? t = code switch
        {
            2 => VoxelType.UInt8,
            4 => VoxelType.Int16,
            8 => VoxelType.Int32,
            16 => VoxelType.Float32,
            64 => VoxelType.Float64,
            256 => VoxelType.Int8,
            512 => VoxelType.UInt16,
            768 => VoxelType.UInt32,
            1024 => VoxelType.Int64,
            1280 => VoxelType.UInt64,
            _ => null,
        };
        type = t.GetValueOrDefault();
        return t.HasValue;
    }

    /// <summary>The code under which <paramref name="type"/> is stored.</summary>
    public static short Code(VoxelType type) => type switch
    {
        VoxelType.UInt8 => 2,
        VoxelType.Int16 => 4,
        VoxelType.Int32 => 8,
        VoxelType.Float32 => 16,
        VoxelType.Float64 => 64,
        VoxelType.Int8 => 256,
        VoxelType.UInt16 => 512,
        VoxelType.UInt32 => 768,
        VoxelType.Int64 => 1024,
        VoxelType.UInt64 => 1280,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Why <paramref name="code"/> cannot be read: "unsupported datatype 32 (complex64)" or "unknown datatype 3".</summary>
    public static string Unsupported(int code)
    {
        var name = code switch
        {
            0 => "DT_UNKNOWN: no datatype set",
            1 => "binary, 1 bit per voxel",
            32 => "complex64",
            128 => "RGB24",
            255 => "DT_ALL",
            1536 => "float128",
            1792 => "complex128",
            2048 => "complex256",
            2304 => "RGBA32",
            _ => null,
        };
        return name is null
            ? $"unknown datatype {code} (not a NIfTI/Analyze datatype code)"
            : $"unsupported datatype {code} ({name}); MedZoo reads uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32 and float64";
    }
}
