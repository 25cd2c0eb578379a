namespace DistillSpec.Training;

internal sealed partial class TrainingKernels
{
    // Rows per causal block: block [r0, r1) only needs keys [0, r1), which skips most of the masked half.
    private const int CausalBlock = 32;

    // Full causal attention per sequence, no KV cache. q (B, T, H, hd); k, v (B, T, KvH, hd);
    // out (B, T, H, hd); probs (B, H, T, T) keeps each row's softmax (zero past the diagonal) for
    // the backward. Query head h reads kv head h / (H / KvH), as in the inference backends. Each
    // (sequence, head) is gathered into contiguous tiles and multiplied with the GEMM micro-kernel.
    public void AttentionForward(float[] q, float[] k, float[] v, int batch, int seqLen, int heads, int kvHeads, int headDim,
        float[] probs, float[] output)
    {
        int t = seqLen, hd = headDim, qDim = heads * hd, kvDim = kvHeads * hd, group = heads / kvHeads;
        float scale = 1f / MathF.Sqrt(hd);
        For(batch * heads, 1, (start, end, worker) =>
        {
            float[] qh = ScratchArray(worker, 0, t * hd), kh = ScratchArray(worker, 1, t * hd);
            float[] vt = ScratchArray(worker, 2, hd * t), oh = ScratchArray(worker, 3, t * hd);
            for (int item = start; item < end; item++)
            {
                int b = item / heads, h = item % heads, kvOffset = h / group * hd, p = item * t * t;
                Gather(q, b * t, t, qDim, h * hd, hd, qh);
                Gather(k, b * t, t, kvDim, kvOffset, hd, kh);
                GatherTransposed(v, b * t, t, kvDim, kvOffset, hd, vt);
                for (int r0 = 0; r0 < t; r0 += CausalBlock)
                {
                    int r1 = Math.Min(r0 + CausalBlock, t);
                    // scores[r0:r1, 0:r1] = q[r0:r1] · k[0:r1]^T
                    Gemm.MultiplyHere(new Gemm.Operands(qh, r0 * hd, hd, false, kh, 0, hd, false, probs, p + r0 * t, t, hd, false), r1 - r0, r1);
                    for (int row = r0; row < r1; row++)
                    {
                        var visible = probs.AsSpan(p + row * t, row + 1);
                        System.Numerics.Tensors.TensorPrimitives.Multiply(visible, scale, visible);
                        Numerics.Softmax.Stable(visible, visible);
                        probs.AsSpan(p + row * t + row + 1, t - row - 1).Clear();
                    }
                    // out[r0:r1] = probs[r0:r1, 0:r1] · v[0:r1]
                    Gemm.MultiplyHere(new Gemm.Operands(probs, p + r0 * t, t, false, vt, 0, t, false, oh, r0 * hd, hd, r1, false), r1 - r0, hd);
                }
                Scatter(oh, t, hd, output, b * t, qDim, h * hd, accumulate: false);
            }
        });
    }

    // dq (B, T, H, hd), dk, dv (B, T, KvH, hd) overwritten from dout (B, T, H, hd). Work is split by
    // (sequence, kv head) so the query heads that share a kv head add into dk, dv on one thread.
    // With P = probs and S the scaled scores: dP = dO · V^T, dS = P * (dP - rowsum(P * dP)),
    // dQ = scale dS · K, dK = scale dS^T · Q, dV = P^T · dO.
    public void AttentionBackward(float[] dout, float[] q, float[] k, float[] v, float[] probs,
        int batch, int seqLen, int heads, int kvHeads, int headDim, float[] dq, float[] dk, float[] dv)
    {
        int t = seqLen, hd = headDim, qDim = heads * hd, kvDim = kvHeads * hd, group = heads / kvHeads;
        float scale = 1f / MathF.Sqrt(hd);
        For(batch * kvHeads, 1, (start, end, worker) =>
        {
            float[] kh = ScratchArray(worker, 0, t * hd), kt = ScratchArray(worker, 1, hd * t), vh = ScratchArray(worker, 2, t * hd);
            float[] qt = ScratchArray(worker, 3, hd * t), doh = ScratchArray(worker, 4, t * hd), dot = ScratchArray(worker, 5, hd * t);
            float[] ds = ScratchArray(worker, 6, t * t), dst = ScratchArray(worker, 7, t * t), pt = ScratchArray(worker, 8, t * t);
            float[] dqh = ScratchArray(worker, 9, t * hd), dkh = ScratchArray(worker, 10, t * hd), dvh = ScratchArray(worker, 11, t * hd);
            for (int item = start; item < end; item++)
            {
                int b = item / kvHeads, kvh = item % kvHeads, kvOffset = kvh * hd;
                Gather(k, b * t, t, kvDim, kvOffset, hd, kh);
                GatherTransposed(k, b * t, t, kvDim, kvOffset, hd, kt);
                Gather(v, b * t, t, kvDim, kvOffset, hd, vh);
                for (int h = kvh * group; h < (kvh + 1) * group; h++)
                {
                    int p = (b * heads + h) * t * t;
                    GatherTransposed(q, b * t, t, qDim, h * hd, hd, qt);
                    Gather(dout, b * t, t, qDim, h * hd, hd, doh);
                    GatherTransposed(dout, b * t, t, qDim, h * hd, hd, dot);
                    for (int r0 = 0; r0 < t; r0 += CausalBlock)
                    {
                        int r1 = Math.Min(r0 + CausalBlock, t);
                        // dP[r0:r1, 0:r1] = dO[r0:r1] · V[0:r1]^T
                        Gemm.MultiplyHere(new Gemm.Operands(doh, r0 * hd, hd, false, vh, 0, hd, false, ds, r0 * t, t, hd, false), r1 - r0, r1);
                        for (int row = r0; row < r1; row++)
                        {
                            var pr = probs.AsSpan(p + row * t, row + 1);
                            var d = ds.AsSpan(row * t, row + 1);
                            float mean = System.Numerics.Tensors.TensorPrimitives.Dot(pr, d);
                            System.Numerics.Tensors.TensorPrimitives.Subtract(d, mean, d);
                            System.Numerics.Tensors.TensorPrimitives.Multiply(d, pr, d);
                            System.Numerics.Tensors.TensorPrimitives.Multiply(d, scale, d);
                            ds.AsSpan(row * t + row + 1, t - row - 1).Clear();
                        }
                        // dQ[r0:r1] = dS[r0:r1, 0:r1] · K[0:r1]
                        Gemm.MultiplyHere(new Gemm.Operands(ds, r0 * t, t, false, kt, 0, t, false, dqh, r0 * hd, hd, r1, false), r1 - r0, hd);
                    }
                    Scatter(dqh, t, hd, dq, b * t, qDim, h * hd, accumulate: false);
                    Transpose(ds, t, dst);
                    Transpose(probs, p, t, pt);
                    bool first = h == kvh * group;
                    for (int r0 = 0; r0 < t; r0 += CausalBlock)
                    {
                        int r1 = Math.Min(r0 + CausalBlock, t);
                        // Row u of dS^T and P^T is zero before column u, so block [r0, r1) sums over [r0, T).
                        Gemm.MultiplyHere(new Gemm.Operands(dst, r0 * t + r0, t, false, qt, r0, t, false, dkh, r0 * hd, hd, t - r0, !first), r1 - r0, hd);
                        Gemm.MultiplyHere(new Gemm.Operands(pt, r0 * t + r0, t, false, dot, r0, t, false, dvh, r0 * hd, hd, t - r0, !first), r1 - r0, hd);
                    }
                }
                Scatter(dkh, t, hd, dk, b * t, kvDim, kvOffset, accumulate: false);
                Scatter(dvh, t, hd, dv, b * t, kvDim, kvOffset, accumulate: false);
            }
        });
    }

    private float[] ScratchArray(int worker, int slot, int length)
    {
        ref var buffer = ref _attentionScratch[worker][slot];
        if (buffer is null || buffer.Length < length) buffer = new float[length];
        return buffer;
    }

    // tile (rows, width) = x rows [row0, row0 + rows) of stride `stride`, columns [column, column + width)
    private static void Gather(float[] x, int row0, int rows, int stride, int column, int width, float[] tile)
    {
        for (int r = 0; r < rows; r++) x.AsSpan((row0 + r) * stride + column, width).CopyTo(tile.AsSpan(r * width, width));
    }

    // tile (width, rows) = the same block, transposed
    private static void GatherTransposed(float[] x, int row0, int rows, int stride, int column, int width, float[] tile)
    {
        for (int r = 0; r < rows; r++)
        {
            int at = (row0 + r) * stride + column;
            for (int i = 0; i < width; i++) tile[i * rows + r] = x[at + i];
        }
    }

    private static void Scatter(float[] tile, int rows, int width, float[] x, int row0, int stride, int column, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            var dst = x.AsSpan((row0 + r) * stride + column, width);
            var src = tile.AsSpan(r * width, width);
            if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
            else src.CopyTo(dst);
        }
    }

    private static void Transpose(float[] square, int n, float[] result) => Transpose(square, 0, n, result);

    private static void Transpose(float[] square, int offset, int n, float[] result)
    {
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) result[c * n + r] = square[offset + r * n + c];
    }
}
