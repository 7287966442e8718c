using System.Globalization;
using System.Text;
using MedZoo.Engine.IO.Streams;

namespace MedZoo.Engine.IO.MetaImage;

/// <summary>
/// The "Key = Value" lines of a MetaImage header, up to and including ElementDataFile (always the
/// last key: in a .mha the voxels follow its line). Keys are matched case-insensitively; typed
/// accessors fail with messages naming the key and what was expected.
/// </summary>
internal sealed class MetaImageHeader
{
    /// <summary>Guards against reading a large binary file as a header.</summary>
    private const int MaxHeaderBytes = 1 << 20;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _path;

    private MetaImageHeader(string path) => _path = path;

    /// <summary>Byte offset just after the ElementDataFile line (where LOCAL data starts).</summary>
    public long EndOffset { get; private set; }

    /// <summary>Reads header lines from the start of <paramref name="input"/>.</summary>
    public static MetaImageHeader Read(VolumeInput input)
    {
        var header = new MetaImageHeader(input.Path);
        var line = new List<byte>(128);
        var lineNumber = 0;
        while (true)
        {
            line.Clear();
            int b;
            while ((b = input.ReadByte()) >= 0 && b != '\n')
            {
                if (b < 0x20 && b is not ('\r' or '\t'))
                    throw input.Fail($"not a MetaImage header: binary byte 0x{b:X2} at byte {input.Position - 1} (line {lineNumber + 1})");
                if (input.Position > MaxHeaderBytes)
                    throw input.Fail($"MetaImage header is longer than {MaxHeaderBytes} bytes without an ElementDataFile line");
                line.Add((byte)b);
            }
            lineNumber++;
            var text = Encoding.Latin1.GetString(line.ToArray()).Trim();
            if (text.Length > 0)
            {
                var eq = text.IndexOf('=');
                if (eq <= 0)
                    throw input.Fail($"MetaImage header line {lineNumber} \"{Clip(text)}\" is not \"Key = Value\"");
                var key = text[..eq].Trim();
                var value = text[(eq + 1)..].Trim();
                header._values[key] = value;
                if (key.Equals("ElementDataFile", StringComparison.OrdinalIgnoreCase))
                {
                    header.EndOffset = input.Position;
                    return header;
                }
            }
            if (b < 0)
                throw input.Fail(lineNumber == 1 && text.Length == 0
                    ? "empty file: not a MetaImage header"
                    : "MetaImage header has no ElementDataFile line (it must end the header)");
        }
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "...";

    private VolumeFormatException Fail(string problem) => new(_path, problem);

    public bool Has(string key) => _values.ContainsKey(key);

    /// <summary>The first of <paramref name="keys"/> present (MetaIO's synonyms, e.g. Offset/Origin/Position).</summary>
    public string? Find(out string? found, params string[] keys)
    {
        foreach (var k in keys)
            if (_values.TryGetValue(k, out var v))
            {
                found = k;
                return v;
            }
        found = null;
        return null;
    }

    public string? String(string key) => _values.TryGetValue(key, out var v) ? v : null;

    public string Required(string key) =>
        String(key) ?? throw Fail($"MetaImage header has no {key} (required)");

    public long Long(string key, long fallback)
    {
        if (String(key) is not { } v) return fallback;
        return long.TryParse(v, NumberStyles.Integer, Inv, out var n) ? n : throw Fail($"MetaImage {key} = \"{Clip(v)}\" is not an integer");
    }

    public bool Bool(string key, bool fallback)
    {
        if (String(key) is not { } v) return fallback;
        if (v.Equals("True", StringComparison.OrdinalIgnoreCase) || v == "1") return true;
        if (v.Equals("False", StringComparison.OrdinalIgnoreCase) || v == "0") return false;
        throw Fail($"MetaImage {key} = \"{Clip(v)}\" is not True or False");
    }

    /// <summary>Exactly <paramref name="count"/> numbers (finite) from the first present key of <paramref name="keys"/>, or null.</summary>
    public double[]? Doubles(int count, params string[] keys)
    {
        if (Find(out var key, keys) is not { } v) return null;
        var parts = v.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != count)
            throw Fail($"MetaImage {key} has {parts.Length} value(s), expected {count}");
        var result = new double[count];
        for (var i = 0; i < count; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, Inv, out result[i]) || !double.IsFinite(result[i]))
                throw Fail($"MetaImage {key} value \"{Clip(parts[i])}\" is not a finite number");
        return result;
    }

    /// <summary>Exactly <paramref name="count"/> integers from <paramref name="key"/>.</summary>
    public long[] Longs(string key, int count)
    {
        var v = Required(key);
        var parts = v.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != count)
            throw Fail($"MetaImage {key} has {parts.Length} value(s), expected {count} (NDims)");
        var result = new long[count];
        for (var i = 0; i < count; i++)
            if (!long.TryParse(parts[i], NumberStyles.Integer, Inv, out result[i]))
                throw Fail($"MetaImage {key} value \"{Clip(parts[i])}\" is not an integer");
        return result;
    }
}
