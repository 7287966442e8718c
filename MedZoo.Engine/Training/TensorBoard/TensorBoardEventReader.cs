using System.Buffers.Binary;
using System.Text;

namespace MedZoo.Engine.Training.TensorBoard;

/// <summary>One scalar read back from an event file.</summary>
/// <param name="Tag">Summary tag, e.g. "train/loss".</param>
/// <param name="Value">The simple_value.</param>
public sealed record TensorBoardScalar(string Tag, float Value);

/// <summary>One event record: time, step, the file version of the first record, and its scalars.</summary>
public sealed record TensorBoardEvent(double WallTime, long Step, string? FileVersion, IReadOnlyList<TensorBoardScalar> Scalars);

/// <summary>
/// Reads TensorBoard event files (the subset <see cref="TensorBoardEventWriter"/> writes: scalar
/// summaries), verifying every frame's masked CRC-32C. Fields it does not know are skipped, so files
/// written by TensorFlow or PyTorch can be read for their scalars too.
/// </summary>
public static class TensorBoardEventReader
{
    /// <summary>All events of the file, in order.</summary>
    /// <exception cref="InvalidDataException">A frame is truncated or a checksum does not match.</exception>
    public static IReadOnlyList<TensorBoardEvent> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<TensorBoardEvent>();
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (bytes.Length - offset < 12)
                throw new InvalidDataException($"{path}: truncated record header at byte {offset}");
            var header = bytes.AsSpan(offset, 12);
            var length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) != Crc32C.Masked(header[..8]))
                throw new InvalidDataException($"{path}: length checksum mismatch at byte {offset}");
            if (length > (ulong)(bytes.Length - offset - 16))
                throw new InvalidDataException($"{path}: record at byte {offset} declares {length} bytes, beyond the end of the file");
            var payload = bytes.AsSpan(offset + 12, (int)length);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 12 + (int)length, 4));
            if (crc != Crc32C.Masked(payload))
                throw new InvalidDataException($"{path}: payload checksum mismatch at byte {offset}");
            events.Add(ParseEvent(payload));
            offset += 16 + (int)length;
        }
        return events;
    }

    private static TensorBoardEvent ParseEvent(ReadOnlySpan<byte> data)
    {
        double wall = 0;
        long step = 0;
        string? version = null;
        var scalars = new List<TensorBoardScalar>();
        var reader = new ProtoReader(data);
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 1): wall = BinaryPrimitives.ReadDoubleLittleEndian(reader.Fixed(8)); break;
                case (2, 0): step = (long)reader.Varint(); break;
                case (3, 2): version = Encoding.UTF8.GetString(reader.Bytes()); break;
                case (5, 2): ParseSummary(reader.Bytes(), scalars); break;
                default: reader.Skip(wire); break;
            }
        }
        return new TensorBoardEvent(wall, step, version, scalars);
    }

    private static void ParseSummary(ReadOnlySpan<byte> data, List<TensorBoardScalar> scalars)
    {
        var reader = new ProtoReader(data);
        while (reader.Next(out var field, out var wire))
        {
            if (field != 1 || wire != 2) { reader.Skip(wire); continue; }
            var value = new ProtoReader(reader.Bytes());
            string? tag = null;
            float? simple = null;
            while (value.Next(out var f, out var w))
            {
                if (f == 1 && w == 2) tag = Encoding.UTF8.GetString(value.Bytes());
                else if (f == 2 && w == 5) simple = BinaryPrimitives.ReadSingleLittleEndian(value.Fixed(4));
                else value.Skip(w);
            }
            if (tag is not null && simple is { } v) scalars.Add(new TensorBoardScalar(tag, v));
        }
    }

    private ref struct ProtoReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public bool Next(out int field, out int wire)
        {
            if (_pos >= _data.Length) { field = 0; wire = 0; return false; }
            var key = Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= _data.Length) throw new InvalidDataException("truncated varint in event");
                var b = _data[_pos++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return result;
            }
            throw new InvalidDataException("varint longer than 10 bytes in event");
        }

        public ReadOnlySpan<byte> Fixed(int n)
        {
            if (_pos + n > _data.Length) throw new InvalidDataException("truncated fixed-size field in event");
            var s = _data.Slice(_pos, n);
            _pos += n;
            return s;
        }

        public ReadOnlySpan<byte> Bytes() => Fixed(checked((int)Varint()));

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: Fixed(8); break;
                case 2: Bytes(); break;
                case 5: Fixed(4); break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {wire} in event");
            }
        }
    }
}
