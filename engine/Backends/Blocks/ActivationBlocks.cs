using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Backends;

/// <summary>
/// Activations x (rows, cols) rounded to int8 for the integer kernels, in blocks matching the
/// weights': 32 (one f32 scale per 32, as ggml's Q8_0 activations) for Q8_0/Q4_0, or 256 (one
/// scale per 256, plus each 16's sum of quants, as ggml's Q8_K) for the K-quants, whose
/// per-sub-block scales and mins then stay integer across a whole super-block.
/// Buffers are pinned and reused, one set per backend.
/// </summary>
internal sealed unsafe class ActivationBlocks
{
    private sbyte[] _quants = [];
    private sbyte[] _groupedQuants = [];
    private int[] _groupedSums = [];
    private float[] _scales = [];
    private short[] _sums = [];
    private float[] _laneScales = [];
    private float[] _groupedScales = [];
    private float[] _offsets = [];
    private float[] _groupedOffsets = [];

    public int Rows { get; private set; }
    public int Cols { get; private set; }
    public int BlockSize { get; private set; }

    // (rows, cols) int8; (rows, cols / BlockSize) f32 scales; (rows, cols / 16) sums of 16 quants.
    public sbyte* Quants => (sbyte*)Unsafe.AsPointer(ref _quants[0]);

    // With 32-blocks, for InterleavedGemm: quants, scales and each block's sum of quants, grouped
    // as the kernel's calls take the rows (BlockGemm.GroupRows): block b of every row of a group,
    // then block b + 1, so that one pointer and constant offsets reach every row (see Grouped).
    public sbyte* GroupedQuants => (sbyte*)Unsafe.AsPointer(ref _groupedQuants[0]);
    public float* GroupedScales => (float*)Unsafe.AsPointer(ref _groupedScales[0]);
    public int* GroupedSums => (int*)Unsafe.AsPointer(ref _groupedSums[0]);
    public float* GroupedOffsets => (float*)Unsafe.AsPointer(ref _groupedOffsets[0]);

    // (rows, cols / 32) with 32-blocks: each block's sum of quants times its scale, rounded to f16
    // as ggml's Q8_1 keeps it (s = fp16(sum * amax / 127)), for formats with a minimum (Q5_1).
    public float* Offsets => (float*)Unsafe.AsPointer(ref _offsets[0]);
    public float* Scales => (float*)Unsafe.AsPointer(ref _scales[0]);
    public short* Sums => (short*)Unsafe.AsPointer(ref _sums[0]);

    // (rows, cols / 32 * 8): with 32-blocks, each block's scale repeated for the eight int32
    // lanes its dot product occupies, so a 512-bit kernel loads two blocks' scales as one vector.
    public float* LaneScales => (float*)Unsafe.AsPointer(ref _laneScales[0]);

    /// <summary>x (rows, cols) -> quants with scale about amax / 127 per block (exactly as ggml rounds it), rounded to nearest even.</summary>
    public void Quantize(float* x, int rows, int cols, int blockSize)
    {
        int length = rows * cols;
        if (_quants.Length < length)
        {
            _quants = GC.AllocateArray<sbyte>(length, pinned: true);
            _groupedQuants = GC.AllocateArray<sbyte>(length, pinned: true);
            _groupedSums = GC.AllocateArray<int>(length / 32, pinned: true);
            _scales = GC.AllocateArray<float>(length / 32, pinned: true);
            _sums = GC.AllocateArray<short>(length / 16, pinned: true);
            _laneScales = GC.AllocateArray<float>(length / 4, pinned: true);
            _groupedScales = GC.AllocateArray<float>(length / 32, pinned: true);
            _offsets = GC.AllocateArray<float>(length / 32, pinned: true);
            _groupedOffsets = GC.AllocateArray<float>(length / 32, pinned: true);
        }
        (Rows, Cols, BlockSize) = (rows, cols, blockSize);
        sbyte* q = Quants;
        float* scales = Scales;
        for (int b = 0; b < length / blockSize; b++)
        {
            float* xb = x + (long)b * blockSize;
            var amax = Vector256<float>.Zero;
            for (int i = 0; i < blockSize; i += 8) amax = Vector256.Max(amax, Vector256.Abs(Vector256.Load(xb + i)));
            // ggml's own rounding, so that our products match llama.cpp's: Q8_0 activations keep an f16 scale
            // amax / 127 and are quantized with 127 / amax; Q8_K ones keep d = 1 / iscale, iscale = -127 / (the
            // signed value of largest magnitude, the first such).
            float max = HorizontalMax(amax), d, iscale;
            if (max == 0f) (d, iscale) = (0f, 0f);
            else if (blockSize == 32) (d, iscale) = ((float)(Half)(max / 127f), 127f / max);
            else
            {
                int at = 0;
                while (MathF.Abs(xb[at]) != max) at++;
                iscale = -127f / xb[at];
                d = 1f / iscale;
            }
            scales[b] = d;
            var inverse = Vector256.Create(iscale);
            sbyte* qb = q + (long)b * blockSize;
            for (int i = 0; i < blockSize; i += 32)
            {
                var v0 = Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + i) * inverse));
                var v1 = Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + i + 8) * inverse));
                var v2 = Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + i + 16) * inverse));
                var v3 = Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + i + 24) * inverse));
                Vector256.Narrow(Vector256.Narrow(v0, v1), Vector256.Narrow(v2, v3)).Store(qb + i);
            }
            if (blockSize == 32) Offsets[b] = (float)(Half)(BlockSum(Vector256.Load(qb)) * (max / 127f));
        }
        if (blockSize == 32)
        {
            float* lanes = LaneScales;
            for (int b = 0; b < length / 32; b++) Vector256.Create(scales[b]).Store(lanes + 8L * b);
            Group(rows, cols);
            return;
        }
        short* sums = Sums;
        for (int g = 0; g < length / 16; g++)
        {
            int s = 0;
            for (int i = 0; i < 16; i++) s += q[16 * g + i];
            sums[g] = (short)s;
        }
    }

    /// <summary>Where block b of row r0 + r sits in the grouped arrays (in blocks), for a group of `count` rows starting at r0.</summary>
    public static long Grouped(int r0, int r, int b, int count, int blocks) => (long)r0 * blocks + (long)b * count + r;

    private void Group(int rows, int cols)
    {
        int blocks = cols / 32;
        sbyte* q = Quants;
        float* scales = Scales;
        for (int r0 = 0, count; r0 < rows; r0 += count)
        {
            count = BlockGemm.GroupRows(rows - r0);
            for (int r = 0; r < count; r++)
                for (int b = 0; b < blocks; b++)
                {
                    long at = Grouped(r0, r, b, count, blocks), from = (long)(r0 + r) * blocks + b;
                    var quants = Vector256.Load(q + 32 * from);
                    quants.Store(GroupedQuants + 32 * at);
                    GroupedScales[at] = scales[from];
                    GroupedSums[at] = BlockSum(quants);
                    GroupedOffsets[at] = Offsets[from];
                }
        }
    }

    private static int BlockSum(Vector256<sbyte> quants)
    {
        var (low, high) = Vector256.Widen(quants);
        return Vector256.Sum(Vector256.WidenLower(low + high) + Vector256.WidenUpper(low + high));
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }
}
