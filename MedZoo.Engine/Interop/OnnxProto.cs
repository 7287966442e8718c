using System.Text;

namespace MedZoo.Engine.Interop;

/// <summary>
/// Writes the few ONNX protobuf messages an exported network needs (ModelProto, GraphProto,
/// NodeProto, AttributeProto, TensorProto, ValueInfoProto and their type messages), field numbers as
/// in onnx/onnx.proto (IR version 8).
/// <para>
/// Why hand-written rather than classes generated from onnx.proto with Google.Protobuf: the exporter
/// only ever writes, about ten messages with a dozen fields in all; the protobuf wire format for them
/// is three encodings (varint, length-delimited, fixed 32-bit), so this file is shorter than the
/// subset of onnx.proto it replaces, adds no build-time code generator (protoc from
/// Google.Protobuf.Tools, per platform) and no runtime dependency to the engine, and reading ONNX is
/// left to ONNX Runtime and onnx.checker, which the tests use to prove the files are valid.
/// </para>
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream buffer = new();

    /// <summary>The bytes written so far.</summary>
    public byte[] ToArray() => buffer.ToArray();

    /// <summary>A varint field (int32/int64/enum).</summary>
    public ProtoWriter Int(int field, long value)
    {
        Tag(field, 0);
        Varint(unchecked((ulong)value));
        return this;
    }

    /// <summary>A fixed 32-bit float field.</summary>
    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> b = stackalloc byte[4];
        BitConverter.TryWriteBytes(b, value);
        if (!BitConverter.IsLittleEndian) b.Reverse();
        buffer.Write(b);
        return this;
    }

    /// <summary>A UTF-8 string field.</summary>
    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field.</summary>
    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        Varint((ulong)value.Length);
        buffer.Write(value);
        return this;
    }

    /// <summary>An embedded message field.</summary>
    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        buffer.WriteByte((byte)value);
    }
}
