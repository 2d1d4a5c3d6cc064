using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Modulith.Ingestion.Segment;

namespace Modulith.Ingestion.EventLog;

/// <summary>
/// Rows of <c>events</c> in PostgreSQL's binary COPY format (header, tuples, trailer), written into one pooled buffer that
/// the caller sends and clears in chunks. Encoding a row here is a few copies; Npgsql's typed importer resolves a converter
/// and awaits for every field (Npgsql fell from 7 % to 3 % of the host's CPU under batched load, docs/performance.md).
/// </summary>
internal sealed class PostgresCopyRows : IDisposable
{
    /// <summary>The columns, in the order <see cref="Append"/> writes them.</summary>
    public const string Columns = "workspace_id, message_id, partition, type, name, user_id, anonymous_id, previous_id, ts, received, payload";

    private const short FieldCount = 11;
    private static readonly byte[] Signature = [.. "PGCOPY\n"u8, 0xFF, (byte)'\r', (byte)'\n', 0];

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _length;

    public PostgresCopyRows()
    {
        Signature.CopyTo(_buffer, 0);
        _length = Signature.Length;
        Int32(0);
        Int32(0);
    }

    /// <summary>What is written and not yet taken by <see cref="Clear"/>.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    public void Clear() => _length = 0;

    public void Append(string workspaceId, NormalizedEvent e, int partition)
    {
        Int16(FieldCount);
        Text(workspaceId);
        Text(e.MessageId);
        Int32(4);
        Int32(partition);
        Text(e.Type);
        Text(e.Name);
        Text(e.UserId);
        Text(e.AnonymousId);
        Text(e.PreviousId);
        Int32(8);
        Int64(e.Timestamp.ToUnixTimeMilliseconds());
        Int32(8);
        Int64(e.ReceivedAt.ToUnixTimeMilliseconds());
        Text(e.Payload);
    }

    /// <summary>The end of the data: a tuple with field count -1.</summary>
    public void End() => Int16(-1);

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private void Text(string? value)
    {
        if (value is null)
        {
            Int32(-1);
            return;
        }

        Reserve(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
        var length = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length + 4));
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_length), length);
        _length += 4 + length;
    }

    private void Int16(short value)
    {
        Reserve(2);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_length), value);
        _length += 2;
    }

    private void Int32(int value)
    {
        Reserve(4);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    private void Int64(long value)
    {
        Reserve(8);
        BinaryPrimitives.WriteInt64BigEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    private void Reserve(int bytes)
    {
        if (_length + bytes <= _buffer.Length)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + bytes));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
