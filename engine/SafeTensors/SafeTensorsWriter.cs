using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using DistillSpec.Numerics;
using DistillSpec.IO;

namespace DistillSpec.SafeTensors;

/// <summary>
/// Collects tensors in memory and writes them as one safetensors file, atomically (AtomicFile), so an interrupted
/// save never leaves a half-written file where a good one used to be.
/// </summary>
public sealed class SafeTensorsWriter
{
    private sealed record Entry(string Name, DType DType, int[] Shape, byte[] Bytes);

    private readonly List<Entry> _entries = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    public SafeTensorsWriter Add(string name, ReadOnlySpan<float> data, int[] shape, DType storeAs = DType.F32)
    {
        long count = CheckEntry(name, shape);
        if (count != data.Length)
            throw new ArgumentException(
                $"Tensor '{name}': shape [{string.Join(", ", shape)}] has {count} elements but {data.Length} values were given.",
                nameof(shape));

        var bytes = new byte[checked(count * DTypeInfo.SizeOf(storeAs))];
        switch (storeAs)
        {
            case DType.F32:
                MemoryMarshal.AsBytes(data).CopyTo(bytes);
                break;
            case DType.F16:
                FloatConversion.SingleToHalf(data, MemoryMarshal.Cast<byte, Half>(bytes.AsSpan()));
                break;
            case DType.BF16:
                FloatConversion.SingleToBFloat16(data, MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan()));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(storeAs), storeAs, "Unknown dtype.");
        }
        return Append(new Entry(name, storeAs, (int[])shape.Clone(), bytes));
    }

    public SafeTensorsWriter AddRaw(string name, DType dtype, int[] shape, ReadOnlySpan<byte> bytes)
    {
        long count = CheckEntry(name, shape);
        int size = DTypeInfo.SizeOf(dtype);
        if (count > bytes.Length / size || count * size != bytes.Length)
            throw new ArgumentException(
                $"Tensor '{name}': shape [{string.Join(", ", shape)}] of {DTypeInfo.Name(dtype)} needs {count} x {size} bytes " +
                $"but {bytes.Length} bytes were given.",
                nameof(bytes));
        return Append(new Entry(name, dtype, (int[])shape.Clone(), bytes.ToArray()));
    }

    public SafeTensorsWriter Metadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        _metadata[key] = value;
        return this;
    }

    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        // Wider elements first keeps every tensor naturally aligned without leaving gaps, which strict readers reject.
        Entry[] ordered = _entries.OrderByDescending(e => DTypeInfo.SizeOf(e.DType)).ToArray();
        byte[] header = BuildHeader(ordered);

        AtomicFile.Write(full, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (Entry e in ordered)
                stream.Write(e.Bytes);
        });
    }

    private byte[] BuildHeader(Entry[] ordered)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (_metadata.Count > 0)
            {
                json.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach (var (key, value) in _metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (Entry e in ordered)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", DTypeInfo.Name(e.DType));
                json.WriteStartArray("shape");
                foreach (int d in e.Shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += e.Bytes.Length);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Space padding (valid JSON whitespace) makes the data section start 8-byte aligned in the file.
        int padded = (buffer.WrittenCount + 7) & ~7;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private long CheckEntry(string name, int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (name == SafeTensorsHeader.MetadataKey)
            throw new ArgumentException($"'{SafeTensorsHeader.MetadataKey}' is reserved and cannot name a tensor.", nameof(name));
        if (_names.Contains(name))
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        foreach (int d in shape)
            if (d < 0)
                throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", shape)}] has a negative dimension.", nameof(shape));
        try
        {
            return TensorInfo.Product(shape);
        }
        catch (OverflowException)
        {
            throw new ArgumentException($"Tensor '{name}': element count of shape [{string.Join(", ", shape)}] overflows.", nameof(shape));
        }
    }

    private SafeTensorsWriter Append(Entry entry)
    {
        _names.Add(entry.Name);
        _entries.Add(entry);
        return this;
    }
}
