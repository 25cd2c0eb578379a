using ILGPU;
using ILGPU.Algorithms;

namespace DistillSpec.Kernels;

/// <summary>
/// Causal attention over the device-resident KV cache. q, output (rows, heads * headDim); keys,
/// values (capacity, kvHeads * headDim); query row r sits at position startPos + r and sees cache
/// positions 0 ..= startPos + r; query head h reads kv head h / (heads / kvHeads).
/// </summary>
internal static class AttentionKernel
{
    /// <summary>Floats of dynamic shared memory one group needs.</summary>
    public static int SharedFloats(int groupSize, int headDim) =>
        2 * groupSize + headDim + Slices(groupSize, headDim) * headDim;

    // With headDim < group size, several threads share one output dimension, each summing every
    // `slices`-th key of a block, so the whole group stays busy in the V pass.
    private static int Slices(int groupSize, int headDim) => headDim < groupSize ? groupSize / headDim : 1;

    // One group per (query row, head). Keys are visited in blocks of Group.DimX with an online
    // softmax (running max m and sum l, partial outputs rescaled when m grows), so shared memory
    // stays fixed however long the context. Per block: thread t scores key block + t against q
    // (staged in shared memory, pre-scaled); the group reduces the block max and the exp sum; then
    // threads, laid out (slice, dim) so neighbours read neighbouring V floats, accumulate p V.
    public static void Attend(ArrayView<float> q, ArrayView<float> keys, ArrayView<float> values, ArrayView<float> output,
        int startPos, int heads, int kvHeads, int headDim)
    {
        int g = Group.DimX, t = Group.IdxX;
        int r = Grid.IdxX / heads, h = Grid.IdxX % heads;
        int kvDim = kvHeads * headDim, kvOffset = h / (heads / kvHeads) * headDim, qOffset = (r * heads + h) * headDim;
        int visible = startPos + r + 1, slices = Slices(g, headDim), accLength = slices * headDim;

        var shared = SharedMemory.GetDynamic<float>();
        var scratch = shared.SubView(0, g);
        var p = shared.SubView(g, g);
        var qs = shared.SubView(2 * g, headDim);
        var acc = shared.SubView(2 * g + headDim, accLength);
        float scale = XMath.Rsqrt(headDim);
        for (int i = t; i < headDim; i += g) qs[i] = q[qOffset + i] * scale;
        for (int j = t; j < accLength; j += g) acc[j] = 0f;
        Group.Barrier();

        float m = float.NegativeInfinity, l = 0f;
        for (int block = 0; block < visible; block += g)
        {
            int key = block + t;
            float score = float.NegativeInfinity;
            if (key < visible)
            {
                score = 0f;
                int at = key * kvDim + kvOffset;
                for (int i = 0; i < headDim; i++) score += qs[i] * keys[at + i];
            }
            float mNew = XMath.Max(m, GroupReduce.Max(scratch, score));
            // exp(-inf) = 0 on the first block: nothing accumulated yet to rescale.
            float correction = XMath.Exp(m - mNew);
            float e = key < visible ? XMath.Exp(score - mNew) : 0f;
            p[t] = e;
            // The reduction's barriers also publish p to the group.
            l = l * correction + GroupReduce.Sum(scratch, e);
            int blockLength = XMath.Min(g, visible - block);
            for (int j = t; j < accLength; j += g)
            {
                int slice = j / headDim, d = j % headDim;
                float a = acc[j] * correction;
                for (int k = slice; k < blockLength; k += slices) a += p[k] * values[(block + k) * kvDim + kvOffset + d];
                acc[j] = a;
            }
            m = mNew;
            // p is overwritten by the next block, and acc is read across threads below.
            Group.Barrier();
        }

        float inv = 1f / l;
        for (int d = t; d < headDim; d += g)
        {
            float sum = 0f;
            for (int s = 0; s < slices; s++) sum += acc[s * headDim + d];
            output[qOffset + d] = sum * inv;
        }
    }
}
