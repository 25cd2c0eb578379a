using System.Buffers.Binary;
using System.Text;

namespace DistillSpec.Tests.SafeTensors;

/// <summary>A unique scratch directory removed on dispose, plus helpers to hand-craft safetensors bytes.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } =
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "distillspec-st-" + Guid.NewGuid().ToString("N"));

    public TempDirectory() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>Builds a file from a header text and a data section of <paramref name="dataBytes"/> bytes (0,1,2,...).</summary>
    public static byte[] Raw(string headerJson, int dataBytes)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        for (int i = 0; i < dataBytes; i++)
            bytes[8 + header.Length + i] = (byte)i;
        return bytes;
    }

    public static byte[] WithPrefix(ulong headerLength, string rest)
    {
        byte[] tail = Encoding.UTF8.GetBytes(rest);
        var bytes = new byte[8 + tail.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength);
        tail.CopyTo(bytes, 8);
        return bytes;
    }
}
