using System.Globalization;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data;

/// <summary>
/// How the label values stored in a dataset's files become class indices 0..K-1, and what each class
/// is called. Several raw values may map to one class (MRBrainS's 4-class grouping); a raw value that
/// is not in the mapping is an error naming the subject and file, never silently kept.
/// </summary>
public sealed class LabelMapping
{
    private readonly Dictionary<long, byte> _map;

    /// <param name="classNames">Name of each class index, background (0) first.</param>
    /// <param name="rawToClass">Raw file value → class index.</param>
    public LabelMapping(IReadOnlyList<string> classNames, IReadOnlyDictionary<long, int> rawToClass)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(rawToClass);
        if (classNames.Count is < 2 or > 255)
            throw new ArgumentException($"a label mapping needs 2..255 classes, got {classNames.Count}", nameof(classNames));
        _map = new Dictionary<long, byte>();
        foreach (var (raw, cls) in rawToClass)
        {
            if ((uint)cls >= (uint)classNames.Count)
                throw new ArgumentException($"raw label {raw} maps to class {cls}, but there are {classNames.Count} classes", nameof(rawToClass));
            _map[raw] = (byte)cls;
        }
        ClassNames = classNames.ToArray();
    }

    /// <summary>Identity mapping: raw value i is class i, for i in 0..K-1.</summary>
    public static LabelMapping Identity(IReadOnlyList<string> classNames) =>
        new(classNames, Enumerable.Range(0, classNames.Count).ToDictionary(i => (long)i, i => i));

    /// <summary>Class names, index = class.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>K, background included.</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>Raw values the mapping accepts, ascending.</summary>
    public IReadOnlyList<long> RawValues => _map.Keys.Order().ToArray();

    /// <summary>The class of a raw value, or null if it is not in the mapping.</summary>
    public int? ClassOf(long raw) => _map.TryGetValue(raw, out var c) ? c : null;

    /// <summary>
    /// Maps one channel of a label volume to class indices. Throws <see cref="DatasetException"/>
    /// naming <paramref name="subjectId"/> and <paramref name="file"/> when a value is not an integer
    /// or not in the mapping (listing the offending values with voxel counts).
    /// </summary>
    public byte[] Map(Volume volume, string subjectId, string file)
    {
        ArgumentNullException.ThrowIfNull(volume);
        if (volume.Channels != 1)
            throw new DatasetException($"subject '{subjectId}': label file '{file}' has {volume.Channels} channels; a label map must be a single 3D volume");
        // Labels are small integers, so float64 values are exact; scaled files (slope/intercept) are mapped after scaling.
        var values = volume.ToDoubleArray();
        var result = new byte[values.Length];
        Dictionary<double, long>? bad = null;
        double lastRaw = double.NaN;
        byte lastClass = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (v == lastRaw)
            {
                result[i] = lastClass;
                continue;
            }
            if (v == Math.Floor(v) && Math.Abs(v) < 1e15 && _map.TryGetValue((long)v, out var cls))
            {
                result[i] = cls;
                lastRaw = v;
                lastClass = cls;
                continue;
            }
            bad ??= [];
            bad[v] = bad.GetValueOrDefault(v) + 1;
        }
        if (bad is not null)
        {
            var listed = string.Join(", ", bad.OrderBy(kv => kv.Key).Take(10).Select(kv =>
                string.Create(CultureInfo.InvariantCulture, $"{kv.Key:G10} ({kv.Value} voxels)")));
            var more = bad.Count > 10 ? $" and {bad.Count - 10} more values" : "";
            throw new DatasetException(
                $"subject '{subjectId}': label file '{file}' has values outside the mapping {{{string.Join(", ", RawValues)}}}: {listed}{more}");
        }
        return result;
    }

    /// <summary>One line per class: "index name ← raw values".</summary>
    public override string ToString() =>
        string.Join("; ", ClassNames.Select((n, c) => $"{c} {n} ← {{{string.Join(", ", _map.Where(kv => kv.Value == c).Select(kv => kv.Key).Order())}}}"));
}
