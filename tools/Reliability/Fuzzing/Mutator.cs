using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace MedZoo.Reliability.Fuzzing;

/// <summary>
/// Deterministic mutations of valid inputs, as AFL and libFuzzer's default mutators do them: bit flips, byte
/// insertions and deletions, "interesting" integers and floats written over header fields in either byte
/// order, truncation, and for text and JSON inputs, values replaced by hostile ones (huge numbers, wrong
/// types, deep nesting, long strings, paths). The same seed gives the same inputs.
/// </summary>
public sealed class Mutator(int seed)
{
    private readonly Random _random = new(seed);

    /// <summary>Integers that break size arithmetic: zero, signs, type limits, powers of two and their neighbours.</summary>
    public static readonly long[] InterestingIntegers =
    [
        0, 1, -1, 2, 3, 7, 8, 15, 16, 255, 256, 348, 352, 540, 544, 1023, 1024, 4096, 32767, 32768, -32768, 65535, 65536,
        int.MaxValue, int.MinValue, int.MaxValue - 1, 1L << 31, uint.MaxValue, 1L << 32, long.MaxValue, long.MinValue, 100_000, 1_000_000_000,
    ];

    /// <summary>Floats that break geometry and scaling: NaN, infinities, zero, tiny, huge.</summary>
    public static readonly double[] InterestingFloats =
        [0, -0.0, 1, -1, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, 1e-300, 1e300, float.MaxValue, float.MinValue, 1e38, 1e-45];

    private static readonly string[] InterestingText =
    [
        "", "0", "-1", "2147483648", "99999999999999999999", "NaN", "Infinity", "-Infinity", "1e309", "null", "true", "[]", "{}",
        "../../../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "\u0000", "\uFFFF", "é", new string('A', 70_000),
    ];

    /// <summary>The random source (for callers that choose among their own options).</summary>
    public Random Random => _random;

    /// <summary>One to a few binary mutations of <paramref name="input"/>; <paramref name="fieldsEnd"/> bounds the header region for field overwrites.</summary>
    public byte[] MutateBytes(byte[] input, int fieldsEnd)
    {
        var data = input;
        var rounds = 1 + _random.Next(_random.Next(2) == 0 ? 1 : 4);
        for (var i = 0; i < rounds; i++) data = MutateOnce(data, fieldsEnd);
        return data;
    }

    private byte[] MutateOnce(byte[] data, int fieldsEnd)
    {
        if (data.Length == 0) return [(byte)_random.Next(256)];
        switch (_random.Next(9))
        {
            case 0: // bit flips
            case 1:
            {
                var copy = (byte[])data.Clone();
                var flips = 1 + _random.Next(8);
                for (var f = 0; f < flips; f++) copy[_random.Next(copy.Length)] ^= (byte)(1 << _random.Next(8));
                return copy;
            }
            case 2: // random bytes
            {
                var copy = (byte[])data.Clone();
                var n = 1 + _random.Next(16);
                for (var f = 0; f < n; f++) copy[_random.Next(copy.Length)] = (byte)_random.Next(256);
                return copy;
            }
            case 3: // insertion
            {
                var at = _random.Next(data.Length + 1);
                var extra = new byte[1 + _random.Next(_random.Next(4) == 0 ? 4096 : 16)];
                _random.NextBytes(extra);
                return [.. data.AsSpan(0, at), .. extra, .. data.AsSpan(at)];
            }
            case 4: // deletion
            {
                var at = _random.Next(data.Length);
                var n = Math.Min(data.Length - at, 1 + _random.Next(_random.Next(4) == 0 ? 1024 : 16));
                return [.. data.AsSpan(0, at), .. data.AsSpan(at + n)];
            }
            case 5: // truncation
                return data[.._random.Next(data.Length)];
            case 6: // interesting integer over a header field
            case 7:
            {
                var copy = (byte[])data.Clone();
                var end = Math.Min(copy.Length, Math.Max(8, fieldsEnd));
                var width = new[] { 1, 2, 4, 8 }[_random.Next(4)];
                if (end < width) return copy;
                var at = _random.Next(end - width + 1) & ~(width - 1);
                var value = InterestingIntegers[_random.Next(InterestingIntegers.Length)];
                var span = copy.AsSpan(at, width);
                var big = _random.Next(2) == 0;
                switch (width)
                {
                    case 1: span[0] = (byte)value; break;
                    case 2: if (big) BinaryPrimitives.WriteInt16BigEndian(span, (short)value); else BinaryPrimitives.WriteInt16LittleEndian(span, (short)value); break;
                    case 4: if (big) BinaryPrimitives.WriteInt32BigEndian(span, (int)value); else BinaryPrimitives.WriteInt32LittleEndian(span, (int)value); break;
                    default: if (big) BinaryPrimitives.WriteInt64BigEndian(span, value); else BinaryPrimitives.WriteInt64LittleEndian(span, value); break;
                }
                return copy;
            }
            default: // interesting float over a header field
            {
                var copy = (byte[])data.Clone();
                var end = Math.Min(copy.Length, Math.Max(8, fieldsEnd));
                if (end < 4) return copy;
                var value = InterestingFloats[_random.Next(InterestingFloats.Length)];
                if (_random.Next(2) == 0 || end < 8)
                    BinaryPrimitives.WriteSingleLittleEndian(copy.AsSpan(_random.Next(end - 3) & ~3, 4), (float)value);
                else
                    BinaryPrimitives.WriteDoubleLittleEndian(copy.AsSpan(_random.Next(end - 7) & ~7, 8), value);
                return copy;
            }
        }
    }

    /// <summary>
    /// A mutation of a text input (MetaImage headers, journals, JSON): a number or word replaced by a hostile
    /// value, a line deleted, duplicated or cut, or a byte-level mutation of the text.
    /// </summary>
    public string MutateText(string text)
    {
        var lines = text.Split('\n').ToList();
        switch (_random.Next(6))
        {
            case 0: // a token replaced
            {
                var i = _random.Next(lines.Count);
                var tokens = lines[i].Split(' ');
                tokens[_random.Next(tokens.Length)] = PickText();
                lines[i] = string.Join(' ', tokens);
                return string.Join('\n', lines);
            }
            case 1: // a number replaced
            {
                var i = _random.Next(lines.Count);
                var tokens = lines[i].Split(' ');
                var numeric = Enumerable.Range(0, tokens.Length).Where(t => tokens[t].Length > 0 && (char.IsAsciiDigit(tokens[t][0]) || tokens[t][0] == '-')).ToList();
                if (numeric.Count == 0) goto case 0;
                tokens[numeric[_random.Next(numeric.Count)]] = _random.Next(3) == 0 ? PickText() : InterestingIntegers[_random.Next(InterestingIntegers.Length)].ToString(System.Globalization.CultureInfo.InvariantCulture);
                lines[i] = string.Join(' ', tokens);
                return string.Join('\n', lines);
            }
            case 2: // a line deleted or duplicated
            {
                var i = _random.Next(lines.Count);
                if (_random.Next(2) == 0) lines.RemoveAt(i); else lines.Insert(i, lines[i]);
                return string.Join('\n', lines);
            }
            case 3: // a line cut
            {
                var i = _random.Next(lines.Count);
                lines[i] = lines[i][.._random.Next(lines[i].Length + 1)];
                return string.Join('\n', lines);
            }
            default:
                return Encoding.UTF8.GetString(MutateBytes(Encoding.UTF8.GetBytes(text), text.Length));
        }
    }

    /// <summary>
    /// A mutation of a JSON document: a value (anywhere in the tree) replaced by a hostile one, a property removed
    /// or added, or, one time in three, a text mutation (which usually makes it invalid JSON).
    /// </summary>
    public string MutateJson(string json)
    {
        if (_random.Next(3) == 0) return MutateText(json);
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (System.Text.Json.JsonException) { return MutateText(json); }
        if (root is null) return MutateText(json);
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[_random.Next(nodes.Count)];
        var parent = target.Parent;
        var replacement = HostileJson();
        if (parent is null) return replacement?.ToJsonString() ?? "null";
        if (parent is JsonObject o)
        {
            var name = target.GetPropertyName();
            if (_random.Next(5) == 0) o.Remove(name);
            else o[name] = replacement;
        }
        else if (parent is JsonArray a)
        {
            var index = target.GetElementIndex();
            if (_random.Next(5) == 0) a.RemoveAt(index);
            else if (_random.Next(5) == 0) a.Add(replacement);
            else a[index] = replacement;
        }
        return root.ToJsonString();
    }

    private static void Collect(JsonNode node, List<JsonNode> into)
    {
        into.Add(node);
        switch (node)
        {
            case JsonObject o: foreach (var (_, v) in o) if (v is not null) Collect(v, into); break;
            case JsonArray a: foreach (var v in a) if (v is not null) Collect(v, into); break;
        }
    }

    private JsonNode? HostileJson()
    {
        switch (_random.Next(8))
        {
            case 0: return null;
            case 1: return JsonValue.Create(InterestingIntegers[_random.Next(InterestingIntegers.Length)]);
            case 2: return JsonValue.Create(PickText());
            case 3: return JsonValue.Create(_random.Next(2) == 0 ? 1e308 : -1e308);
            case 4: return new JsonArray(JsonValue.Create(1), JsonValue.Create("x"), null);
            case 5: return new JsonObject { ["0"] = "x", ["-1"] = 2 };
            case 6: return JsonValue.Create(_random.Next(2) == 0);
            default:
            {
                // Nesting deeper than System.Text.Json's default limit of 64.
                JsonNode deep = new JsonArray();
                for (var i = 0; i < 70; i++) deep = new JsonArray(deep);
                return deep;
            }
        }
    }

    private string PickText() => InterestingText[_random.Next(InterestingText.Length)];
}
