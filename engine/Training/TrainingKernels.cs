using System.Numerics.Tensors;
using DistillSpec.Backends;

namespace DistillSpec.Training;

/// <summary>
/// The layers of a Llama-family training step, each a forward/backward pair (llm.c style), on the
/// CPU: TensorPrimitives inner loops, split over a persistent worker pool. Backward functions
/// accumulate (+=) into parameter gradients; activation gradients are overwritten unless a
/// parameter says otherwise. Rows are the B * T token positions of a batch.
/// </summary>
internal sealed partial class TrainingKernels : IDisposable
{
    private readonly WorkerPool _pool;
    private readonly Gemm _gemm;
    private readonly float[][][] _workerScratch;
    private readonly float[][][] _attentionScratch;

    public TrainingKernels(int threads)
    {
        _pool = new WorkerPool(Math.Max(1, threads));
        _gemm = new Gemm(_pool);
        _workerScratch = Enumerable.Range(0, _pool.Threads).Select(_ => new float[4][]).ToArray();
        _attentionScratch = Enumerable.Range(0, _pool.Threads).Select(_ => new float[12][]).ToArray();
    }

    public int Threads => _pool.Threads;

    public void Dispose() => _pool.Dispose();

    private void For(int count, int minChunk, Action<int, int, int> body) => _pool.For(count, new DelegateJob(body), minChunk);

    private sealed class DelegateJob(Action<int, int, int> body) : RangeJob
    {
        public override void Run(int start, int end, int worker) => body(start, end, worker);
    }

    private Span<float> Scratch(int worker, int slot, int length)
    {
        ref var buffer = ref _workerScratch[worker][slot];
        if (buffer is null || buffer.Length < length) buffer = new float[length];
        return buffer.AsSpan(0, length);
    }

    // out (N, C) = table (V, C)[tokens (N)]
    public static void EmbeddingForward(ReadOnlySpan<int> tokens, float[] table, int dim, float[] output)
    {
        for (int r = 0; r < tokens.Length; r++) table.AsSpan(tokens[r] * dim, dim).CopyTo(output.AsSpan(r * dim, dim));
    }

    // dtable (V, C) += dout (N, C) scattered by tokens (N); sequential because tokens repeat.
    public static void EmbeddingBackward(ReadOnlySpan<int> tokens, float[] dout, int dim, float[] dtable)
    {
        for (int r = 0; r < tokens.Length; r++)
        {
            var row = dtable.AsSpan(tokens[r] * dim, dim);
            TensorPrimitives.Add(row, dout.AsSpan(r * dim, dim), row);
        }
    }

    // y (N, out) = x (N, in) · w (out, in)^T + b (out)
    public void MatMulForward(float[] x, int rows, int inDim, float[] w, int outDim, float[]? b, float[] y)
    {
        _gemm.Multiply(x, w, y, rows, outDim, inDim, accumulate: false);
        if (b is not null)
            for (int r = 0; r < rows; r++)
            {
                var row = y.AsSpan(r * outDim, outDim);
                TensorPrimitives.Add(row, b, row);
            }
    }

    // dx (N, in) = (or +=) dy (N, out) · w (out, in); dw (out, in) += dy^T · x; db (out) += column sums of dy.
    // The GEMM reads w, dy and x in place, transposed where the product needs it.
    public void MatMulBackward(float[] dy, float[] x, int rows, int inDim, float[] w, int outDim,
        float[] dx, bool accumulateDx, float[] dw, float[]? db)
    {
        _gemm.Multiply(new Gemm.Operands(dy, 0, outDim, false, w, 0, inDim, true, dx, 0, inDim, outDim, accumulateDx), rows, inDim);
        _gemm.Multiply(new Gemm.Operands(dy, 0, outDim, true, x, 0, inDim, true, dw, 0, inDim, rows, true), outDim, inDim);
        if (db is not null)
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(db, dy.AsSpan(r * outDim, outDim), db);
    }

    // y (N, C) = x / rms(x) * g; rstd (N) = 1 / rms(x) kept for the backward
    public void RmsNormForward(float[] x, float[] g, int rows, int dim, float eps, float[] y, float[] rstd)
    {
        For(rows, Math.Max(1, 16384 / dim), (start, end, _) =>
        {
            for (int r = start; r < end; r++)
            {
                var xs = x.AsSpan(r * dim, dim);
                var ys = y.AsSpan(r * dim, dim);
                float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xs) / dim + eps);
                rstd[r] = inv;
                TensorPrimitives.Multiply(xs, inv, ys);
                TensorPrimitives.Multiply(ys, g, ys);
            }
        });
    }

    // dx (N, C) += rstd * (dy*g - n * mean(dy*g*n)) with n = x * rstd; dg (C) += sum over rows of dy * n
    public void RmsNormBackward(float[] dy, float[] x, float[] g, float[] rstd, int rows, int dim, float[] dx, float[] dg)
    {
        For(rows, Math.Max(1, 8192 / dim), (start, end, worker) =>
        {
            var dn = Scratch(worker, 0, dim);
            var n = Scratch(worker, 1, dim);
            for (int r = start; r < end; r++)
            {
                var xs = x.AsSpan(r * dim, dim);
                TensorPrimitives.Multiply(xs, rstd[r], n);
                TensorPrimitives.Multiply(dy.AsSpan(r * dim, dim), g, dn);
                float mean = TensorPrimitives.Dot(dn, n) / dim;
                TensorPrimitives.MultiplyAdd(n, -mean, dn, dn);
                var dxs = dx.AsSpan(r * dim, dim);
                TensorPrimitives.MultiplyAdd(dn, rstd[r], dxs, dxs);
            }
        });
        // The gain gradient sums over rows; one thread keeps the order fixed.
        var tmp = Scratch(0, 0, dim);
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Multiply(x.AsSpan(r * dim, dim), rstd[r], tmp);
            TensorPrimitives.MultiplyAdd(tmp, dy.AsSpan(r * dim, dim), dg, dg);
        }
    }

    // x (N, heads, headDim) rotated in place, rotate-half pairs (i, i + headDim/2); row r sits at position r % seqLen.
    // cos, sin (maxT, headDim/2) tables.
    public void RopeForward(float[] x, int rows, int seqLen, int heads, int headDim, float[] cos, float[] sin) =>
        Rotate(x, rows, seqLen, heads, headDim, cos, sin, 1f);

    // dx rotated back in place: the rotation's transpose is the rotation by -angle.
    public void RopeBackward(float[] dx, int rows, int seqLen, int heads, int headDim, float[] cos, float[] sin) =>
        Rotate(dx, rows, seqLen, heads, headDim, cos, sin, -1f);

    private void Rotate(float[] x, int rows, int seqLen, int heads, int headDim, float[] cos, float[] sin, float direction)
    {
        int half = headDim / 2;
        For(rows, Math.Max(1, 8192 / (heads * headDim)), (start, end, _) =>
        {
            for (int r = start; r < end; r++)
            {
                int t = r % seqLen;
                for (int h = 0; h < heads; h++)
                {
                    int at = (r * heads + h) * headDim;
                    for (int i = 0; i < half; i++)
                    {
                        float c = cos[t * half + i], s = direction * sin[t * half + i];
                        float x0 = x[at + i], x1 = x[at + i + half];
                        x[at + i] = x0 * c - x1 * s;
                        x[at + i + half] = x1 * c + x0 * s;
                    }
                }
            }
        });
    }

    /// <summary>cos, sin (maxT, headDim/2) in the inference backend's float rounding, so both passes agree.</summary>
    public static (float[] Cos, float[] Sin) RopeTables(int maxT, int headDim, float theta)
    {
        int half = headDim / 2;
        float[] cos = new float[maxT * half], sin = new float[maxT * half];
        for (int i = 0; i < half; i++)
        {
            float frequency = (float)Math.Pow(theta, -2.0 * i / headDim);
            for (int t = 0; t < maxT; t++)
            {
                double angle = t * (double)frequency;
                cos[t * half + i] = (float)Math.Cos(angle);
                sin[t * half + i] = (float)Math.Sin(angle);
            }
        }
        return (cos, sin);
    }

    // out (N, F) = silu(gate) * up
    public void SwiGluForward(float[] gate, float[] up, int length, float[] output)
    {
        const int Chunk = 2048;
        For((length + Chunk - 1) / Chunk, 4, (start, end, worker) =>
        {
            for (int c = start; c < end; c++)
            {
                int s = c * Chunk, n = Math.Min(Chunk, length - s);
                var t = Scratch(worker, 0, n);
                var g = gate.AsSpan(s, n);
                TensorPrimitives.Sigmoid(g, t);
                TensorPrimitives.Multiply(t, g, t);
                TensorPrimitives.Multiply(t, up.AsSpan(s, n), output.AsSpan(s, n));
            }
        });
    }

    // dup = dout * silu(gate); dgate = dout * up * sig * (1 + gate * (1 - sig)), all (N, F)
    public void SwiGluBackward(float[] dout, float[] gate, float[] up, int length, float[] dgate, float[] dup)
    {
        const int Chunk = 2048;
        For((length + Chunk - 1) / Chunk, 4, (start, end, worker) =>
        {
            for (int c = start; c < end; c++)
            {
                int s = c * Chunk, n = Math.Min(Chunk, length - s);
                var sig = Scratch(worker, 0, n);
                var silu = Scratch(worker, 1, n);
                var oneMinus = Scratch(worker, 2, n);
                var g = gate.AsSpan(s, n);
                var d = dout.AsSpan(s, n);
                TensorPrimitives.Sigmoid(g, sig);
                TensorPrimitives.Multiply(sig, g, silu);
                TensorPrimitives.Multiply(d, silu, dup.AsSpan(s, n));
                TensorPrimitives.Subtract(1f, sig, oneMinus);
                // silu'(g) = sig + silu * (1 - sig)
                TensorPrimitives.FusedMultiplyAdd(silu, oneMinus, sig, silu);
                var dg = dgate.AsSpan(s, n);
                TensorPrimitives.Multiply(d, up.AsSpan(s, n), dg);
                TensorPrimitives.Multiply(dg, silu, dg);
            }
        });
    }

    // losses (N) = logsumexp(logits row) - logits[target]; rows with target < 0 are ignored (loss 0)
    public void CrossEntropyForward(float[] logits, ReadOnlySpan<int> targets, int rows, int vocab, float[] losses)
    {
        int[] t = targets.ToArray();
        For(rows, Math.Max(1, 65536 / vocab), (start, end, worker) =>
        {
            var e = Scratch(worker, 0, vocab);
            for (int r = start; r < end; r++)
            {
                if (t[r] < 0) { losses[r] = 0; continue; }
                var row = logits.AsSpan(r * vocab, vocab);
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, e);
                TensorPrimitives.Exp(e, e);
                losses[r] = MathF.Log(TensorPrimitives.Sum(e)) + max - row[t[r]];
            }
        });
    }

    // dlogits (N, V) = (softmax(logits) - onehot(target)) * dloss; zero for ignored rows
    public void CrossEntropyBackward(float[] logits, ReadOnlySpan<int> targets, int rows, int vocab, float dloss, float[] dlogits)
    {
        int[] t = targets.ToArray();
        For(rows, Math.Max(1, 65536 / vocab), (start, end, _) =>
        {
            for (int r = start; r < end; r++)
            {
                var d = dlogits.AsSpan(r * vocab, vocab);
                if (t[r] < 0) { d.Clear(); continue; }
                Numerics.Softmax.Stable(logits.AsSpan(r * vocab, vocab), d);
                d[t[r]] -= 1f;
                TensorPrimitives.Multiply(d, dloss, d);
            }
        });
    }
}
