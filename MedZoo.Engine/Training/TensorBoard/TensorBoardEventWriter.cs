using System.Buffers.Binary;
using System.Text;

namespace MedZoo.Engine.Training.TensorBoard;

/// <summary>
/// Writes a TensorBoard event file (<c>events.out.tfevents.*</c>) without a protobuf or TensorFlow
/// dependency. The file is a sequence of TFRecord frames — uint64 length, masked CRC-32C of the
/// length, the payload, masked CRC-32C of the payload — each payload an <c>Event</c> protobuf
/// (wall_time = 1 double, step = 2 int64, file_version = 3 string, summary = 5 message) whose
/// <c>Summary</c> holds <c>Value</c>s (tag = 1 string, simple_value = 2 float). The first record
/// carries file_version "brain.Event:2", as TensorBoard expects.
/// Not thread-safe: the trainer writes from its own thread.
/// </summary>
public sealed class TensorBoardEventWriter : IDisposable
{
    private static int _counter;
    private readonly FileStream _stream;
    private bool _disposed;

    /// <summary>Creates <paramref name="directory"/> if needed and a new event file in it, named like PyTorch's SummaryWriter does.</summary>
    public TensorBoardEventWriter(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        var seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var host = SafeName(Environment.MachineName);
        var name = $"events.out.tfevents.{seconds}.{host}.{Environment.ProcessId}.{Interlocked.Increment(ref _counter)}";
        FilePath = Path.Combine(directory, name);
        _stream = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 4096);
        WriteEvent(EncodeEvent(Now(), 0, fileVersion: "brain.Event:2", summary: null));
        Flush();
    }

    /// <summary>Full path of the event file.</summary>
    public string FilePath { get; }

    /// <summary>Appends one scalar (stored as float32, as TensorBoard's simple_value).</summary>
    public void AddScalar(string tag, double value, long step, DateTimeOffset? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var valueMessage = new ProtoWriter();
        valueMessage.String(1, tag);
        valueMessage.Float(2, (float)value);
        var summary = new ProtoWriter();
        summary.Message(1, valueMessage);
        WriteEvent(EncodeEvent(time is { } t ? t.ToUnixTimeMilliseconds() / 1000.0 : Now(), step, null, summary));
    }

    /// <summary>Pushes buffered records to the file so TensorBoard sees them.</summary>
    public void Flush()
    {
        if (_disposed) return;
        _stream.Flush(flushToDisk: false);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stream.Flush();
        _stream.Dispose();
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private static string SafeName(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s) sb.Append(char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        return sb.Length == 0 ? "host" : sb.ToString();
    }

    private static byte[] EncodeEvent(double wallTime, long step, string? fileVersion, ProtoWriter? summary)
    {
        var e = new ProtoWriter();
        e.Double(1, wallTime);
        if (step != 0) e.Varint(2, (ulong)step);
        if (fileVersion is not null) e.String(3, fileVersion);
        if (summary is not null) e.Message(5, summary);
        return e.ToArray();
    }

    private void WriteEvent(byte[] payload)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(payload));
        _stream.Write(header);
        _stream.Write(payload);
        _stream.Write(footer);
    }

    /// <summary>Just enough protobuf encoding for Event and Summary.</summary>
    private sealed class ProtoWriter
    {
        private readonly MemoryStream _buffer = new();

        public void Double(int field, double value)
        {
            Tag(field, 1);
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(b, value);
            _buffer.Write(b);
        }

        public void Float(int field, float value)
        {
            Tag(field, 5);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(b, value);
            _buffer.Write(b);
        }

        public void Varint(int field, ulong value)
        {
            Tag(field, 0);
            RawVarint(value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _buffer.ToArray();

        private void Bytes(int field, byte[] bytes)
        {
            Tag(field, 2);
            RawVarint((ulong)bytes.Length);
            _buffer.Write(bytes);
        }

        private void Tag(int field, int wireType) => RawVarint((ulong)((field << 3) | wireType));

        private void RawVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _buffer.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _buffer.WriteByte((byte)value);
        }
    }
}

/// <summary>CRC-32C (Castagnoli), the checksum of TFRecord frames, with TensorFlow's masking.</summary>
internal static class Crc32C
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        return table;
    }

    /// <summary>Plain CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    /// <summary>
    /// TensorFlow masks stored CRCs (rotate right by 15, add a constant) because a CRC computed over
    /// data that itself contains CRCs is otherwise weak.
    /// </summary>
    public static uint Masked(ReadOnlySpan<byte> data)
    {
        var crc = Compute(data);
        return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
    }
}
