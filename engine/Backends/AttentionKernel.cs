using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Backends;

/// <summary>
/// Query heads [first, last) of one position against the KV cache. While decoding, the cache
/// has been pushed out of the last-level cache by the weights streamed since the previous
/// layer, so it is read the way it lies in memory: position by position, every head of a
/// position together (one contiguous run of a cache row), rather than head by head down a
/// column of rows, which the hardware prefetcher follows poorly.
/// </summary>
internal static unsafe class AttentionKernel
{
    /// <param name="q">the position's query row, heads x headDim</param>
    /// <param name="k">key cache rows of kvDim floats; position t at k + t * kvDim</param>
    /// <param name="scores">scratch of (last - first) x visible floats</param>
    /// <param name="output">the position's output row, heads x headDim</param>
    public static void Heads(float* q, float* k, float* v, int first, int last, int group, int headDim, int kvDim,
        int visible, float scale, float* scores, float* output)
    {
        int count = last - first;
        for (int t = 0; t < visible; t++)
        {
            float* row = k + (long)t * kvDim;
            for (int h = first; h < last; h++)
                scores[(long)(h - first) * visible + t] = Dot(q + (long)h * headDim, row + h / group * headDim, headDim) * scale;
        }
        for (int h = 0; h < count; h++)
        {
            var s = new Span<float>(scores + (long)h * visible, visible);
            Numerics.Softmax.Stable(s, s);
        }
        new Span<float>(output + (long)first * headDim, count * headDim).Clear();
        int u = 0;
        for (; u + 4 <= visible; u += 4)
        {
            float* r0 = v + (long)u * kvDim, r1 = r0 + kvDim, r2 = r1 + kvDim, r3 = r2 + kvDim;
            for (int h = first; h < last; h++)
            {
                float* w = scores + (long)(h - first) * visible + u;
                int at = h / group * headDim;
                Mix4(r0 + at, r1 + at, r2 + at, r3 + at, w[0], w[1], w[2], w[3], output + (long)h * headDim, headDim);
            }
        }
        for (; u < visible; u++)
        {
            float* r = v + (long)u * kvDim;
            for (int h = first; h < last; h++)
            {
                float w = scores[(long)(h - first) * visible + u];
                int at = h / group * headDim;
                Mix1(r + at, w, output + (long)h * headDim, headDim);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int n)
    {
        Vector256<float> s0 = default, s1 = default;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            s0 = Fma(Vector256.Load(a + i), Vector256.Load(b + i), s0);
            s1 = Fma(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), s1);
        }
        if (i + 8 <= n)
        {
            s0 = Fma(Vector256.Load(a + i), Vector256.Load(b + i), s0);
            i += 8;
        }
        float s = Vector256.Sum(s0 + s1);
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mix1(float* v, float w, float* o, int n)
    {
        var b = Vector256.Create(w);
        int i = 0;
        for (; i + 8 <= n; i += 8) Fma(b, Vector256.Load(v + i), Vector256.Load(o + i)).Store(o + i);
        for (; i < n; i++) o[i] += w * v[i];
    }

    // o += w0 v0 + w1 v1 + w2 v2 + w3 v3: four positions per load and store of the output.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mix4(float* v0, float* v1, float* v2, float* v3, float w0, float w1, float w2, float w3, float* o, int n)
    {
        var b0 = Vector256.Create(w0);
        var b1 = Vector256.Create(w1);
        var b2 = Vector256.Create(w2);
        var b3 = Vector256.Create(w3);
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var a = Fma(b0, Vector256.Load(v0 + i), Vector256.Load(o + i));
            a = Fma(b1, Vector256.Load(v1 + i), a);
            a = Fma(b2, Vector256.Load(v2 + i), a);
            Fma(b3, Vector256.Load(v3 + i), a).Store(o + i);
        }
        for (; i < n; i++) o[i] += w0 * v0[i] + w1 * v1[i] + w2 * v2[i] + w3 * v3[i];
    }
}
