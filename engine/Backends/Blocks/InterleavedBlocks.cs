using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// A Q8_0 or Q4_0 matrix with every 8 consecutive output rows interleaved block by block, the
/// layout InterleavedGemm reads: for block b of the 8 rows, their 8 f16 scales (16 bytes), then
/// their quant bytes in 32-byte chunks, chunk c holding bytes 4c..4c+3 of each row in turn. One
/// vpdpbusd (or vpmaddubsw) of a chunk with four broadcast activations then adds to 8 lanes that are 8 outputs,
/// so a block's f32 scaling costs three instructions per 8 outputs instead of per output. Q8_0
/// quants are stored plus 128 (unsigned, as vpdpbusd's unsigned side); Q4_0 chunks are the
/// stored nibble bytes, whose low halves are weights 4c.. and high halves 16 + 4c.. of the block.
/// Rows past the last multiple of 8 stay in ggml's layout, where a plain matrix has them.
/// Same size as the stored blocks: loading a model needs no extra memory.
/// </summary>
internal sealed class InterleavedBlocks : Tensor
{
    public const int Outputs = 8;

    /// <summary>AVX2 (AVX-VNNI where present), which InterleavedGemm is built on.</summary>
    public static bool IsSupported => Avx2.IsSupported;

    public static bool Takes(WeightFormat format) => format is WeightFormat.Q8_0 or WeightFormat.Q4_0;

    /// <summary>Interleaves `blocks` (ggml layout, rows x RowBytes) in place and keeps them.</summary>
    public InterleavedBlocks(WeightFormat format, int rows, int cols, byte[] blocks) : base(checked(rows * cols))
    {
        if (!Takes(format)) throw new ArgumentException($"{format} cannot be interleaved; Q8_0 or Q4_0 expected", nameof(format));
        BlockFormats.CheckShape(format, rows, cols);
        RowBytes = BlockFormats.RowBytes(format, cols);
        if (blocks.Length != (long)rows * RowBytes)
            throw new ArgumentException($"a ({rows}, {cols}) {format} matrix takes {(long)rows * RowBytes} bytes, got {blocks.Length}", nameof(blocks));
        (Format, Rows, Cols, Bytes) = (format, rows, cols, blocks);
        var plain = new byte[Outputs * RowBytes];
        for (int g = 0; g < Groups; g++)
        {
            var group = blocks.AsSpan(g * plain.Length, plain.Length);
            group.CopyTo(plain);
            for (int i = 0; i < Outputs; i++) Scatter(plain.AsSpan(i * RowBytes, RowBytes), group, i);
        }
    }

    public WeightFormat Format { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int RowBytes { get; }
    public byte[] Bytes { get; }

    /// <summary>Groups of 8 rows that are interleaved; rows from Groups * 8 on are in ggml's layout.</summary>
    public int Groups => Rows / Outputs;

    private int BlockBytes => Format == WeightFormat.Q8_0 ? Q8_0Block.BlockBytes : Q4_0Block.BlockBytes;

    // Flips Q8_0's quants to unsigned and back; Q4_0's nibbles are unsigned already.
    private byte Flip => Format == WeightFormat.Q8_0 ? (byte)0x80 : (byte)0;

    public void DequantizeRow(int row, Span<float> destination)
    {
        if (row >= Groups * Outputs)
        {
            BlockFormats.Dequantize(Format, Bytes.AsSpan(row * RowBytes, RowBytes), destination[..Cols]);
            return;
        }
        var plain = new byte[RowBytes];
        Gather(Bytes.AsSpan(row / Outputs * Outputs * RowBytes, Outputs * RowBytes), row % Outputs, plain);
        BlockFormats.Dequantize(Format, plain, destination[..Cols]);
    }

    // Row i (ggml layout) into its places in an interleaved group.
    private void Scatter(ReadOnlySpan<byte> row, Span<byte> group, int i)
    {
        int bb = BlockBytes, quants = bb - 2;
        for (int b = 0; b < Cols / 32; b++)
        {
            var from = row.Slice(b * bb, bb);
            var to = group.Slice(b * Outputs * bb, Outputs * bb);
            to[2 * i] = from[0];
            to[2 * i + 1] = from[1];
            for (int j = 0; j < quants; j++) to[16 + 32 * (j / 4) + 4 * i + j % 4] = (byte)(from[2 + j] ^ Flip);
        }
    }

    // Row i of an interleaved group back to ggml's layout.
    private void Gather(ReadOnlySpan<byte> group, int i, Span<byte> row)
    {
        int bb = BlockBytes, quants = bb - 2;
        for (int b = 0; b < Cols / 32; b++)
        {
            var from = group.Slice(b * Outputs * bb, Outputs * bb);
            var to = row.Slice(b * bb, bb);
            to[0] = from[2 * i];
            to[1] = from[2 * i + 1];
            for (int j = 0; j < quants; j++) to[2 + j] = (byte)(from[16 + 32 * (j / 4) + 4 * i + j % 4] ^ Flip);
        }
    }
}
