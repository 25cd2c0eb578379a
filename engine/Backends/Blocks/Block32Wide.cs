using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// Q8_0 / Q4_0 on AVX-512BW: two 32-weight blocks per 512-bit instruction, which halves the
/// integer work per input row that makes a 5-row verification pass compute-bound. Per row and
/// pair of blocks: a's sign flipped where w is negative (AVX-512 has no vpsignb), vpmaddubsw,
/// vpmaddwd, one convert and one FMA, with d_w * d_x for both blocks read as lanes
/// (ActivationBlocks.LaneScales). An odd last block goes through the AVX2 kernel's arithmetic.
/// </summary>
internal unsafe struct Block32Wide<TF> : IBlockKernel where TF : struct, IBlock32
{
    public static bool IsSupported => Avx512BW.IsSupported;

    public static void Run<TR>(ActivationBlocks a, int r0, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TR : struct, IRowCount
    {
        int n = a.Cols, blocks = n / 32, pairs = blocks / 2;
        sbyte* q0 = a.Quants + (long)r0 * n, q1 = q0 + n, q2 = q1 + n, q3 = q2 + n, q4 = q3 + n, q5 = q4 + n;
        // Eight lanes per block: (rows, blocks * 8).
        float* s0 = a.LaneScales + (long)r0 * blocks * 8, s1 = s0 + blocks * 8, s2 = s1 + blocks * 8, s3 = s2 + blocks * 8,
            s4 = s3 + blocks * 8, s5 = s4 + blocks * 8;
        for (int o = oStart; o < oEnd; o++)
        {
            byte* row = w + (long)o * rowBytes;
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            for (int p = 0; p < pairs; p++)
            {
                byte* block = row + 2 * p * TF.BlockBytes;
                BlockGemm.PrefetchAhead(block, rowBytes);
                var wq = Vector512.Create(TF.Weights(block), TF.Weights(block + TF.BlockBytes));
                var dw = Vector512.Create(Vector256.Create(TF.Scale(block)), Vector256.Create(TF.Scale(block + TF.BlockBytes)));
                var magnitude = Vector512.Abs(wq).AsByte();
                var negative = Vector512.LessThan(wq, Vector512<sbyte>.Zero);
                int at = 64 * p, lanes = 16 * p;
                c0 = Step(c0, magnitude, negative, q0 + at, dw, s0 + lanes);
                if (TR.Count > 1) c1 = Step(c1, magnitude, negative, q1 + at, dw, s1 + lanes);
                if (TR.Count > 2) c2 = Step(c2, magnitude, negative, q2 + at, dw, s2 + lanes);
                if (TR.Count > 3) c3 = Step(c3, magnitude, negative, q3 + at, dw, s3 + lanes);
                if (TR.Count > 4) c4 = Step(c4, magnitude, negative, q4 + at, dw, s4 + lanes);
                if (TR.Count > 5) c5 = Step(c5, magnitude, negative, q5 + at, dw, s5 + lanes);
                if (TF.HasMin)
                {
                    float m0 = TF.Min(block), m1 = TF.Min(block + TF.BlockBytes);
                    float* off = a.Offsets + (long)r0 * blocks + 2 * p;
                    c0 += Vector512.CreateScalar(m0 * off[0] + m1 * off[1]);
                    if (TR.Count > 1) c1 += Vector512.CreateScalar(m0 * off[blocks] + m1 * off[blocks + 1]);
                    if (TR.Count > 2) c2 += Vector512.CreateScalar(m0 * off[2 * blocks] + m1 * off[2 * blocks + 1]);
                    if (TR.Count > 3) c3 += Vector512.CreateScalar(m0 * off[3 * blocks] + m1 * off[3 * blocks + 1]);
                    if (TR.Count > 4) c4 += Vector512.CreateScalar(m0 * off[4 * blocks] + m1 * off[4 * blocks + 1]);
                    if (TR.Count > 5) c5 += Vector512.CreateScalar(m0 * off[5 * blocks] + m1 * off[5 * blocks + 1]);
                }
            }
            float t0 = Vector512.Sum(c0), t1 = Vector512.Sum(c1), t2 = Vector512.Sum(c2), t3 = Vector512.Sum(c3), t4 = Vector512.Sum(c4), t5 = Vector512.Sum(c5);
            if (blocks % 2 != 0)
            {
                byte* block = row + (blocks - 1) * TF.BlockBytes;
                var wq = TF.Weights(block);
                float dw = TF.Scale(block);
                int b = blocks - 1;
                t0 += Last(wq, q0 + 32 * b) * dw * s0[8 * b];
                if (TR.Count > 1) t1 += Last(wq, q1 + 32 * b) * dw * s1[8 * b];
                if (TR.Count > 2) t2 += Last(wq, q2 + 32 * b) * dw * s2[8 * b];
                if (TR.Count > 3) t3 += Last(wq, q3 + 32 * b) * dw * s3[8 * b];
                if (TR.Count > 4) t4 += Last(wq, q4 + 32 * b) * dw * s4[8 * b];
                if (TR.Count > 5) t5 += Last(wq, q5 + 32 * b) * dw * s5[8 * b];
                if (TF.HasMin)
                {
                    float m = TF.Min(block);
                    float* off = a.Offsets + (long)r0 * blocks + b;
                    t0 += m * off[0];
                    if (TR.Count > 1) t1 += m * off[blocks];
                    if (TR.Count > 2) t2 += m * off[2 * blocks];
                    if (TR.Count > 3) t3 += m * off[3 * blocks];
                    if (TR.Count > 4) t4 += m * off[4 * blocks];
                    if (TR.Count > 5) t5 += m * off[5 * blocks];
                }
            }
            float add = bias is null ? 0f : bias[o];
            y[(long)r0 * outDim + o] = t0 + add;
            if (TR.Count > 1) y[(long)(r0 + 1) * outDim + o] = t1 + add;
            if (TR.Count > 2) y[(long)(r0 + 2) * outDim + o] = t2 + add;
            if (TR.Count > 3) y[(long)(r0 + 3) * outDim + o] = t3 + add;
            if (TR.Count > 4) y[(long)(r0 + 4) * outDim + o] = t4 + add;
            if (TR.Count > 5) y[(long)(r0 + 5) * outDim + o] = t5 + add;
        }
    }

    // c + (d_w * d_x lanes) * (w . x) for two blocks, w given as |w| and where it is negative.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(Vector512<float> c, Vector512<byte> magnitude, Vector512<sbyte> negative, sbyte* x, Vector512<float> dw, float* laneScales)
    {
        var xs = Vector512.Load(x);
        var signed = Vector512.ConditionalSelect(negative, Vector512<sbyte>.Zero - xs, xs);
        var dots = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(magnitude, signed), Vector512.Create((short)1));
        return Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(dots), dw * Vector512.Load(laneScales), c);
    }

    private static float Last(Vector256<sbyte> w, sbyte* x) => Vector256.Sum(Avx2Dot.DotSigned(w, Vector256.Load(x)));
}
