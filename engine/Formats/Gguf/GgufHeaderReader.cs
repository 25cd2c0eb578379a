using System.Text;
using DistillSpec.Models;

namespace DistillSpec.Formats.Gguf;

/// <summary>
/// Little-endian reads over a GGUF header that check every length against the bytes left, so a
/// corrupt count fails with a message naming the file instead of a huge allocation.
/// </summary>
internal sealed class GgufHeaderReader(BinaryReader reader, string path, long fileLength)
{
    public long Position => reader.BaseStream.Position;

    public ModelFormatException Error(string problem) => new(path, problem);

    public T Read<T>(string what, Func<BinaryReader, T> read, int size)
    {
        if (fileLength - Position < size)
            throw Error($"truncated: the file ends at byte {fileLength} while reading {what} at byte {Position}");
        return read(reader);
    }

    public uint UInt32(string what) => Read(what, r => r.ReadUInt32(), 4);

    public ulong UInt64(string what) => Read(what, r => r.ReadUInt64(), 8);

    /// <summary>A uint64 count of items of at least minItemSize bytes each, bounded by what is left of the file.</summary>
    public int Count(string what, int minItemSize)
    {
        ulong count = UInt64(what);
        if (count > (ulong)((fileLength - Position) / minItemSize) || count > int.MaxValue)
            throw Error($"{what} is {count}, more than the {fileLength - Position} bytes left in the file can hold");
        return (int)count;
    }

    public string String(string what)
    {
        int length = Count($"length of {what}", 1);
        byte[] bytes = reader.ReadBytes(length);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error($"{what} is not valid UTF-8");
        }
    }

    public GgufValue Value(GgufValueType type, string key)
    {
        if (type != GgufValueType.Array) return GgufValue.Of(Scalar(type, key));
        var element = (GgufValueType)UInt32($"element type of array '{key}'");
        if (element == GgufValueType.Array) throw Error($"metadata '{key}' is an array of arrays, which this reader does not support");
        if (!Enum.IsDefined(element)) throw Error($"metadata '{key}' is an array of unknown value type {(uint)element}");
        int count = Count($"length of array '{key}'", element == GgufValueType.String ? 8 : ScalarSize(element));
        var array = Array.CreateInstance(GgufValue.ClrType(element), count);
        for (int i = 0; i < count; i++) array.SetValue(Scalar(element, key), i);
        return GgufValue.Of(array);
    }

    private object Scalar(GgufValueType type, string key)
    {
        string what = $"value of '{key}'";
        return type switch
        {
            GgufValueType.UInt8 => Read(what, r => r.ReadByte(), 1),
            GgufValueType.Int8 => Read(what, r => r.ReadSByte(), 1),
            GgufValueType.UInt16 => Read(what, r => r.ReadUInt16(), 2),
            GgufValueType.Int16 => Read(what, r => r.ReadInt16(), 2),
            GgufValueType.UInt32 => Read(what, r => r.ReadUInt32(), 4),
            GgufValueType.Int32 => Read(what, r => r.ReadInt32(), 4),
            GgufValueType.UInt64 => Read(what, r => r.ReadUInt64(), 8),
            GgufValueType.Int64 => Read(what, r => r.ReadInt64(), 8),
            GgufValueType.Float32 => Read(what, r => r.ReadSingle(), 4),
            GgufValueType.Float64 => Read(what, r => r.ReadDouble(), 8),
            GgufValueType.Bool => Read(what, r => r.ReadByte(), 1) switch
            {
                0 => false,
                1 => true,
                var b => throw Error($"{what} is a bool stored as {b}; GGUF bools are 0 or 1"),
            },
            GgufValueType.String => String(what),
            _ => throw Error($"metadata '{key}' has unknown value type {(uint)type}"),
        };
    }

    private static int ScalarSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        _ => 8,
    };
}
