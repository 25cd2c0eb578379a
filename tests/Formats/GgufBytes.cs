using System.Text;

namespace DistillSpec.Tests.Formats;

/// <summary>Hand-assembles GGUF bytes field by field, so tests can write what our writer never would.</summary>
internal sealed class GgufBytes
{
    private readonly MemoryStream _stream = new();
    private readonly BinaryWriter _w;

    public GgufBytes() => _w = new BinaryWriter(_stream, Encoding.UTF8);

    public GgufBytes Header(ulong tensors, ulong kvs, uint version = 3, string magic = "GGUF")
    {
        _w.Write(Encoding.ASCII.GetBytes(magic));
        _w.Write(version);
        _w.Write(tensors);
        _w.Write(kvs);
        return this;
    }

    public GgufBytes String(string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        _w.Write((ulong)bytes.Length);
        _w.Write(bytes);
        return this;
    }

    public GgufBytes U32(uint v) { _w.Write(v); return this; }

    public GgufBytes U64(ulong v) { _w.Write(v); return this; }

    public GgufBytes Byte(byte v) { _w.Write(v); return this; }

    /// <summary>A metadata entry holding a uint32 (value type 4).</summary>
    public GgufBytes KvU32(string key, uint value) => String(key).U32(4).U32(value);

    public GgufBytes Tensor(string name, ulong[] dims, uint type, ulong offset)
    {
        String(name).U32((uint)dims.Length);
        foreach (ulong d in dims) U64(d);
        return U32(type).U64(offset);
    }

    /// <summary>Zero bytes up to the next multiple of alignment, then count data bytes.</summary>
    public GgufBytes Data(int count, int alignment = 32)
    {
        while (_stream.Position % alignment != 0) _w.Write((byte)0);
        _w.Write(new byte[count]);
        return this;
    }

    public byte[] ToArray()
    {
        _w.Flush();
        return _stream.ToArray();
    }
}
