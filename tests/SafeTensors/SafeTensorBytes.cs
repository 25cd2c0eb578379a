using System.Buffers.Binary;
using System.Text;

namespace DistillSpec.Tests.SafeTensors;

/// <summary>Hand-crafted safetensors bytes, for files our writer would never produce.</summary>
internal static class SafeTensorBytes
{
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
