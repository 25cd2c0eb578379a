using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// A block-format matrix with every 8 consecutive output rows interleaved block by block, the
/// layout InterleavedGemm reads. Each field of a block (BlockFields) keeps its place, times 8:
/// its units follow one another, and each unit holds the 8 rows' copies in turn. Quant bytes go
/// in 4-byte units, so 32 bytes hold the same 4 bytes of 8 rows: unpacked as one row's are, they
/// give 4 weights of each of 8 outputs, and one vpdpbusd (or vpmaddubsw) with four broadcast
/// activations adds to 8 lanes that are 8 outputs; a block's scaling then costs a few
/// instructions per 8 outputs instead of per output. f16 scales go in 2-byte units (8 scales in
/// 16 bytes), K-quant sub-block scales in 1-byte units (one byte of 8 rows in 8 bytes). Q8_0
/// quants are stored plus 128 (unsigned, as vpdpbusd's unsigned side). The 32 fifth bits of a
/// Q5_0/Q5_1 block are stored transposed (FifthBits): bit k of byte m is weight 4k + m's, so the
/// chunk of weights 4k.. finds its four bits at bit k of its four bytes, one shift away.
/// Rows past the last multiple of 8 stay in ggml's layout, where a plain matrix has them.
/// Same size as the stored blocks: loading a model needs no extra memory.
/// </summary>
internal sealed class InterleavedBlocks : Tensor
{
    public const int Outputs = 8;

    /// <summary>AVX2 (AVX-VNNI where present), which InterleavedGemm is built on.</summary>
    public static bool IsSupported => Avx2.IsSupported;

    public static bool Takes(WeightFormat format) => BlockFormats.IsBlockFormat(format);

    /// <summary>Interleaves `blocks` (ggml layout, rows x RowBytes) in place and keeps them.</summary>
    public InterleavedBlocks(WeightFormat format, int rows, int cols, byte[] blocks) : base(checked(rows * cols))
    {
        if (!Takes(format)) throw new ArgumentException($"{format} cannot be interleaved; a block format expected", nameof(format));
        BlockFormats.CheckShape(format, rows, cols);
        RowBytes = BlockFormats.RowBytes(format, cols);
        if (blocks.Length != (long)rows * RowBytes)
            throw new ArgumentException($"a ({rows}, {cols}) {format} matrix takes {(long)rows * RowBytes} bytes, got {blocks.Length}", nameof(blocks));
        (Format, Rows, Cols, Bytes) = (format, rows, cols, blocks);
        _maps = Enumerable.Range(0, Outputs).Select(Map).ToArray();
        var plain = new byte[Outputs * RowBytes];
        for (int g = 0; g < Groups; g++)
        {
            var group = blocks.AsSpan(g * plain.Length, plain.Length);
            group.CopyTo(plain);
            for (int i = 0; i < Outputs; i++)
            {
                TransposeFifthBits(plain.AsSpan(i * RowBytes, RowBytes), toKernel: true);
                Scatter(plain.AsSpan(i * RowBytes, RowBytes), group, i);
            }
        }
    }

    private readonly (int[] Woven, byte[] Flips)[] _maps;

    public WeightFormat Format { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int RowBytes { get; }
    public byte[] Bytes { get; }

    /// <summary>Groups of 8 rows that are interleaved; rows from Groups * 8 on are in ggml's layout.</summary>
    public int Groups => Rows / Outputs;

    // Flips Q8_0's quants to unsigned and back; the other formats' quants are unsigned already.
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
        TransposeFifthBits(plain, toKernel: false);
        BlockFormats.Dequantize(Format, plain, destination[..Cols]);
    }

    // Each Q5_0/Q5_1 block's fifth-bit word of one row (ggml layout) to the kernel's order (FifthBits.Transpose) or back.
    private void TransposeFifthBits(Span<byte> row, bool toKernel)
    {
        int at = Format switch { WeightFormat.Q5_0 => Q5_0Block.HighBitsAt, WeightFormat.Q5_1 => Q5_1Block.HighBitsAt, _ => -1 };
        if (at < 0) return;
        int bb = BlockFormats.BlockBytes(Format);
        for (int b = 0; b < row.Length / bb; b++)
        {
            var word = row.Slice(b * bb + at, 4);
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(word);
            BinaryPrimitives.WriteUInt32LittleEndian(word, toKernel ? FifthBits.Transpose(bits) : FifthBits.Untranspose(bits));
        }
    }

    // Row i (ggml layout) into its places in an interleaved group.
    private void Scatter(ReadOnlySpan<byte> row, Span<byte> group, int i) => Move(row, group, i, toGroup: true);

    // Row i of an interleaved group back to ggml's layout.
    private void Gather(ReadOnlySpan<byte> group, int i, Span<byte> row) => Move(group, row, i, toGroup: false);

    private void Move(ReadOnlySpan<byte> from, Span<byte> to, int i, bool toGroup)
    {
        int bb = BlockFormats.BlockBytes(Format);
        var (woven, flips) = _maps[i];
        for (int b = 0; b < RowBytes / bb; b++)
        {
            var plainBlock = toGroup ? from.Slice(b * bb, bb) : to.Slice(b * bb, bb);
            int at = b * Outputs * bb;
            if (toGroup)
                for (int k = 0; k < bb; k++) to[at + woven[k]] = (byte)(plainBlock[k] ^ flips[k]);
            else
                for (int k = 0; k < bb; k++) to[b * bb + k] = (byte)(from[at + woven[k]] ^ flips[k]);
        }
    }

    // For row i of a group: where each byte of its block goes within the group's block, and what it is XORed with.
    private (int[] Woven, byte[] Flips) Map(int i)
    {
        int bb = BlockFormats.BlockBytes(Format);
        var woven = new int[bb];
        var flips = new byte[bb];
        foreach (var field in BlockFields.Of(Format))
            for (int u = 0; u < field.Length / field.Unit; u++)
                for (int k = 0; k < field.Unit; k++)
                {
                    int plain = field.Offset + u * field.Unit + k;
                    woven[plain] = Outputs * field.Offset + (u * Outputs + i) * field.Unit + k;
                    flips[plain] = field.Quants ? Flip : (byte)0;
                }
        return (woven, flips);
    }
}

/// <summary>
/// The fields of each block format's block in ggml's layout, with the unit InterleavedBlocks
/// interleaves them by: 2 for f16 scales, 1 for K-quant sub-block scales, 4 for quant bytes.
/// </summary>
internal static class BlockFields
{
    public readonly record struct Field(int Offset, int Length, int Unit, bool Quants = false);

    private static readonly Field[] Q8_0 = [new(0, 2, 2), new(2, 32, 4, true)];
    private static readonly Field[] Q4_0 = [new(0, 2, 2), new(2, 16, 4, true)];
    private static readonly Field[] Q5_0 = [new(0, 2, 2), new(Q5_0Block.HighBitsAt, 4, 4, true), new(Q5_0Block.QuantsAt, 16, 4, true)];
    private static readonly Field[] Q5_1 =
        [new(0, 2, 2), new(Q5_1Block.MinAt, 2, 2), new(Q5_1Block.HighBitsAt, 4, 4, true), new(Q5_1Block.QuantsAt, 16, 4, true)];
    private static readonly Field[] Q4_K = [new(0, 2, 2), new(2, 2, 2), new(Q4KBlock.ScalesAt, 12, 1), new(Q4KBlock.QuantsAt, 128, 4, true)];
    private static readonly Field[] Q5_K =
        [new(0, 2, 2), new(2, 2, 2), new(Q5KBlock.ScalesAt, 12, 1), new(Q5KBlock.HighBitsAt, 32, 4, true), new(Q5KBlock.QuantsAt, 128, 4, true)];
    private static readonly Field[] Q6_K = [new(0, 128, 4, true), new(Q6KBlock.HighBitsAt, 64, 4, true), new(Q6KBlock.ScalesAt, 16, 1), new(Q6KBlock.DAt, 2, 2)];

    public static Field[] Of(WeightFormat format) => format switch
    {
        WeightFormat.Q8_0 => Q8_0,
        WeightFormat.Q4_0 => Q4_0,
        WeightFormat.Q5_0 => Q5_0,
        WeightFormat.Q5_1 => Q5_1,
        WeightFormat.Q4_K => Q4_K,
        WeightFormat.Q5_K => Q5_K,
        WeightFormat.Q6_K => Q6_K,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a block format"),
    };
}

/// <summary>
/// A Q5 block's 32 fifth bits (bit j: weight j's) rearranged so that bit k of byte m is weight 4k + m's:
/// the four weights 4k..4k+3 of a chunk then sit at bit k of bytes 0-3, as InterleavedGemm's lanes take them.
/// </summary>
internal static class FifthBits
{
    public static uint Transpose(uint bits)
    {
        uint result = 0;
        for (int j = 0; j < 32; j++) result |= (bits >> j & 1) << (8 * (j % 4) + j / 4);
        return result;
    }

    public static uint Untranspose(uint transposed)
    {
        uint result = 0;
        for (int j = 0; j < 32; j++) result |= (transposed >> (8 * (j % 4) + j / 4) & 1) << j;
        return result;
    }
}
