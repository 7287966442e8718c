namespace MedZoo.Engine.IO;

/// <summary>
/// Where voxels are in the world: a 4×4 voxel-to-world affine in the NIfTI convention
/// (voxel indices (i, j, k) with i along the fastest file axis → millimetres in RAS+: +x towards the
/// patient's Right, +y Anterior, +z Superior) plus the voxel spacing.
/// Readers of LPS formats (MetaImage) convert to this convention and writers convert back, so a
/// volume's affine means the same thing whatever file it came from.
/// <see cref="Space"/> says which world the affine maps into (NIfTI's xform code: scanner, aligned,
/// MNI, ...); NIfTI writers store it so a prediction keeps its input's meaning.
/// </summary>
public sealed class VolumeGeometry : IEquatable<VolumeGeometry>
{
    private readonly double[] _affine;
    private readonly double[] _spacing;

    /// <param name="affine">16 values, row-major; the last row must be (0, 0, 0, 1).</param>
    /// <param name="spacing">Voxel size in mm along i, j, k (as stored in the file's header); when
    /// null it is derived from the affine's column norms.</param>
    /// <param name="space">World the affine maps into; <see cref="WorldSpace.Unknown"/> when the file did not say.</param>
    public VolumeGeometry(ReadOnlySpan<double> affine, ReadOnlySpan<double> spacing = default, WorldSpace space = WorldSpace.Unknown)
    {
        if (!Enum.IsDefined(space))
            throw new ArgumentOutOfRangeException(nameof(space), space, "unknown world space code");
        Space = space;
        if (affine.Length != 16)
            throw new ArgumentException($"affine must have 16 values (4×4 row-major), got {affine.Length}", nameof(affine));
        foreach (var v in affine)
            if (!double.IsFinite(v))
                throw new ArgumentException("affine contains a non-finite value", nameof(affine));
        _affine = affine.ToArray();
        _affine[12] = 0; _affine[13] = 0; _affine[14] = 0; _affine[15] = 1;
        if (spacing.IsEmpty)
        {
            _spacing = new double[3];
            for (var c = 0; c < 3; c++)
                _spacing[c] = Math.Sqrt(_affine[c] * _affine[c] + _affine[4 + c] * _affine[4 + c] + _affine[8 + c] * _affine[8 + c]);
        }
        else
        {
            if (spacing.Length != 3)
                throw new ArgumentException($"spacing must have 3 values, got {spacing.Length}", nameof(spacing));
            _spacing = spacing.ToArray();
        }
    }

    /// <summary>Axis-aligned RAS geometry: diagonal spacing (mm), world position of voxel (0,0,0) at (ox, oy, oz).</summary>
    public static VolumeGeometry FromSpacing(double sx = 1, double sy = 1, double sz = 1, double ox = 0, double oy = 0, double oz = 0) =>
        new([sx, 0, 0, ox, 0, sy, 0, oy, 0, 0, sz, oz, 0, 0, 0, 1], [sx, sy, sz]);

    /// <summary>Which world the affine maps into (NIfTI xform code); not part of equality.</summary>
    public WorldSpace Space { get; }

    /// <summary>The same affine and spacing, labelled with another world space.</summary>
    public VolumeGeometry WithSpace(WorldSpace space) => space == Space ? this : new VolumeGeometry(_affine, _spacing, space);

    /// <summary>1 mm isotropic, origin at 0, RAS.</summary>
    public static VolumeGeometry Identity { get; } = FromSpacing();

    /// <summary>Row-major 4×4 affine (a copy).</summary>
    public double[] Affine => (double[])_affine.Clone();

    /// <summary>Element (row, column) of the affine.</summary>
    public double this[int row, int column] => _affine[row * 4 + column];

    /// <summary>Affine as 4 rows of 4 values (the JSON shape of `inspect`).</summary>
    public double[][] AffineRows => [_affine[0..4], _affine[4..8], _affine[8..12], _affine[12..16]];

    /// <summary>Voxel size in mm along i, j, k.</summary>
    public IReadOnlyList<double> Spacing => _spacing;

    /// <summary>
    /// Three letters naming where each voxel axis points in the world, as nibabel's aff2axcodes:
    /// "RAS" for the NIfTI default, "LPS" for DICOM-style, "LAS" for radiological storage, ...
    /// </summary>
    public string Orientation
    {
        get
        {
            Span<char> code = stackalloc char[3];
            Span<bool> used = stackalloc bool[3];
            ReadOnlySpan<char> pos = "RAS", neg = "LPI";
            // Greedy by largest component, like nibabel's io_orientation for near-axis-aligned affines.
            for (var n = 0; n < 3; n++)
            {
                int bestCol = -1, bestRow = -1;
                var best = -1.0;
                for (var col = 0; col < 3; col++)
                {
                    if (code[col] != '\0') continue;
                    var norm = _spacing[col] > 0 ? _spacing[col] : 1;
                    for (var row = 0; row < 3; row++)
                    {
                        if (used[row]) continue;
                        var v = Math.Abs(_affine[row * 4 + col]) / norm;
                        if (v > best) { best = v; bestCol = col; bestRow = row; }
                    }
                }
                if (bestCol < 0) break;
                used[bestRow] = true;
                code[bestCol] = _affine[bestRow * 4 + bestCol] >= 0 ? pos[bestRow] : neg[bestRow];
            }
            for (var i = 0; i < 3; i++) if (code[i] == '\0') code[i] = '?';
            return new string(code);
        }
    }

    /// <summary>World position (mm, RAS) of voxel (i, j, k).</summary>
    public (double X, double Y, double Z) VoxelToWorld(double i, double j, double k) =>
        (_affine[0] * i + _affine[1] * j + _affine[2] * k + _affine[3],
         _affine[4] * i + _affine[5] * j + _affine[6] * k + _affine[7],
         _affine[8] * i + _affine[9] * j + _affine[10] * k + _affine[11]);

    /// <summary>Exact equality of affine and spacing (the <see cref="Space"/> label is not compared:
    /// formats without it, such as MetaImage, must still compare equal after a round trip).</summary>
    public bool Equals(VolumeGeometry? other) =>
        other is not null && _affine.AsSpan().SequenceEqual(other._affine) && _spacing.AsSpan().SequenceEqual(other._spacing);

    /// <summary>True if affines agree within <paramref name="tolerance"/> (mm) element-wise.</summary>
    public bool ApproximatelyEquals(VolumeGeometry other, double tolerance = 1e-4)
    {
        for (var i = 0; i < 16; i++)
            if (Math.Abs(_affine[i] - other._affine[i]) > tolerance) return false;
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as VolumeGeometry);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var v in _affine) h.Add(v);
        return h.ToHashCode();
    }

    public override string ToString() =>
        $"{Orientation} spacing {string.Join("×", _spacing.Select(s => s.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)))} mm";
}

/// <summary>
/// The world a volume's affine maps into: NIfTI's NIFTI_XFORM_* codes (sform_code/qform_code).
/// </summary>
public enum WorldSpace
{
    /// <summary>Not stated (NIFTI_XFORM_UNKNOWN, 0): Analyze, MetaImage, arrays.</summary>
    Unknown = 0,
    /// <summary>Scanner-based anatomical coordinates (NIFTI_XFORM_SCANNER_ANAT, 1).</summary>
    Scanner = 1,
    /// <summary>Aligned to another file or anatomical truth (NIFTI_XFORM_ALIGNED_ANAT, 2).</summary>
    Aligned = 2,
    /// <summary>Talairach-Tournoux atlas space (NIFTI_XFORM_TALAIRACH, 3).</summary>
    Talairach = 3,
    /// <summary>MNI 152 template space (NIFTI_XFORM_MNI_152, 4).</summary>
    Mni152 = 4,
    /// <summary>Another template space (NIFTI_XFORM_TEMPLATE_OTHER, 5).</summary>
    Template = 5,
}
