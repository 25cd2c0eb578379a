using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        float s = Reduce(s0 + s1);
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    // ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)): the order Dot4's horizontal adds sum
    // in, so one query at a time and four at a time give the same scores.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce(Vector256<float> v)
    {
        if (Avx.IsSupported)
        {
            var h = Avx.HorizontalAdd(v, v);
            h = Avx.HorizontalAdd(h, h);
            return h.ToScalar() + h.GetUpper().ToScalar();
        }
        return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
    }

    // Four queries' Dot with one key row (n a multiple of 16, AVX): each key vector is loaded once.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Dot4(float* q0, float* q1, float* q2, float* q3, float* k, int n)
    {
        Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
        for (int i = 0; i < n; i += 16)
        {
            var k0 = Vector256.Load(k + i);
            var k1 = Vector256.Load(k + i + 8);
            a0 = Fma(Vector256.Load(q0 + i), k0, a0); a1 = Fma(Vector256.Load(q0 + i + 8), k1, a1);
            b0 = Fma(Vector256.Load(q1 + i), k0, b0); b1 = Fma(Vector256.Load(q1 + i + 8), k1, b1);
            c0 = Fma(Vector256.Load(q2 + i), k0, c0); c1 = Fma(Vector256.Load(q2 + i + 8), k1, c1);
            d0 = Fma(Vector256.Load(q3 + i), k0, d0); d1 = Fma(Vector256.Load(q3 + i + 8), k1, d1);
        }
        var all = Avx.HorizontalAdd(Avx.HorizontalAdd(a0 + a1, b0 + b1), Avx.HorizontalAdd(c0 + c1, d0 + d1));
        return all.GetLower() + all.GetUpper();
    }

    /// <summary>
    /// Every query head of KV head g for query rows [firstRow, lastRow) of a verification or
    /// prompt pass together (headDim a multiple of 16, AVX). Row r sees positions
    /// [0, startPos + r + 1). Each key is read once for four queries, and the values are mixed
    /// into registers, 16 output columns of four queries at a time, instead of a load and store
    /// of the output per four positions. Scores, softmax and the order of every sum are those
    /// of Heads, so a pass over several rows gives what one row at a time gives.
    /// </summary>
    /// <param name="at">scratch of (lastRow - firstRow) x group offsets</param>
    /// <param name="scores">scratch of (lastRow - firstRow) x group x (startPos + lastRow) floats</param>
    public static void Rows(float* q, float* k, float* v, int g, int firstRow, int lastRow, int heads, int group, int headDim, int kvDim,
        int startPos, float scale, nint* at, float* scores, float* output)
    {
        int queries = (lastRow - firstRow) * group, stride = startPos + lastRow;
        // Query i is head g * group + i % group of row firstRow + i / group, at q + at[i].
        for (int i = 0; i < queries; i++)
            at[i] = (nint)((long)(firstRow + i / group) * heads * headDim + (long)(g * group + i % group) * headDim);
        for (int t = 0; t < stride; t++)
        {
            float* key = k + (long)t * kvDim + g * headDim;
            // Decoding streams the weights between layers, so the cache rows come from memory: ask
            // for the keys a few positions ahead, and for this position's values, needed after the scores.
            if (Sse.IsSupported)
                for (int line = 0; line < headDim; line += 16)
                {
                    Sse.Prefetch0(key + 4L * kvDim + line);
                    Sse.Prefetch1(v + (long)t * kvDim + g * headDim + line);
                }
            int i = 0;
            for (; i + 4 <= queries; i += 4)
            {
                var d = Dot4(q + at[i], q + at[i + 1], q + at[i + 2], q + at[i + 3], key, headDim) * scale;
                float* s = scores + (long)i * stride + t;
                s[0] = d.ToScalar(); s[stride] = d.GetElement(1); s[2 * stride] = d.GetElement(2); s[3 * stride] = d.GetElement(3);
            }
            for (; i < queries; i++) scores[(long)i * stride + t] = Dot(q + at[i], key, headDim) * scale;
        }
        for (int i = 0; i < queries; i++)
        {
            var s = new Span<float>(scores + (long)i * stride, startPos + firstRow + i / group + 1);
            Numerics.Softmax.Stable(s, s);
        }
        float* values = v + g * headDim;
        for (int i = 0; i < queries; i += 4)
        {
            int count = Math.Min(4, queries - i), shared = startPos + firstRow + i / group + 1;
            float* w0 = scores + (long)i * stride, w1 = w0 + (count > 1 ? stride : 0), w2 = w0 + (count > 2 ? 2 * stride : 0), w3 = w0 + (count > 3 ? 3 * stride : 0);
            for (int d = 0; d < headDim; d += 16)
            {
                Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, e0 = default, e1 = default;
                // Positions every query of the group sees; a query of a later row sees more, mixed in after.
                for (int u = 0; u < shared; u++)
                {
                    float* row = values + (long)u * kvDim + d;
                    var v0 = Vector256.Load(row);
                    var v1 = Vector256.Load(row + 8);
                    var x = Vector256.Create(w0[u]); a0 = Fma(x, v0, a0); a1 = Fma(x, v1, a1);
                    x = Vector256.Create(w1[u]); b0 = Fma(x, v0, b0); b1 = Fma(x, v1, b1);
                    x = Vector256.Create(w2[u]); c0 = Fma(x, v0, c0); c1 = Fma(x, v1, c1);
                    x = Vector256.Create(w3[u]); e0 = Fma(x, v0, e0); e1 = Fma(x, v1, e1);
                }
                a0.Store(output + at[i] + d); a1.Store(output + at[i] + d + 8);
                if (count > 1) { b0.Store(output + at[i + 1] + d); b1.Store(output + at[i + 1] + d + 8); }
                if (count > 2) { c0.Store(output + at[i + 2] + d); c1.Store(output + at[i + 2] + d + 8); }
                if (count > 3) { e0.Store(output + at[i + 3] + d); e1.Store(output + at[i + 3] + d + 8); }
            }
            for (int j = i; j < i + count; j++)
            {
                int visible = startPos + firstRow + j / group + 1;
                float* w = scores + (long)j * stride;
                for (int u = shared; u < visible; u++) Mix1(values + (long)u * kvDim, w[u], output + at[j], headDim);
            }
        }
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
