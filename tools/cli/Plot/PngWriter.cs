using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace DistillSpec.Cli.Plot;

/// <summary>
/// The smallest valid PNG: 8-bit RGB, no interlace, every scanline with filter 0 and the whole
/// image in one zlib-compressed IDAT chunk.
/// </summary>
internal static class PngWriter
{
    private static readonly uint[] s_crcTable = CrcTable();

    /// <summary>rgb is (height, width, 3), rows top to bottom.</summary>
    public static void Write(Stream output, int width, int height, ReadOnlySpan<byte> rgb)
    {
        if (rgb.Length != width * height * 3) throw new ArgumentException($"expected {width} x {height} x 3 bytes, got {rgb.Length}", nameof(rgb));
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;  // bits per channel
        header[9] = 2;  // colour type: RGB
        Chunk(output, "IHDR", header);

        using var pixels = new MemoryStream();
        using (var zlib = new ZLibStream(pixels, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0);  // filter: none
                zlib.Write(rgb.Slice(y * width * 3, width * 3));
            }
        Chunk(output, "IDAT", pixels.ToArray());
        Chunk(output, "IEND", []);
    }

    // length, type, data, CRC-32 of type + data
    private static void Chunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        byte[] typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        uint crc = Crc32(Crc32(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }

    internal static uint Crc32(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    // Reflected CRC-32 with polynomial 0xEDB88320, as zlib and PNG use.
    private static uint[] CrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
