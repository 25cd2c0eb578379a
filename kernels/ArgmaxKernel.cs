using ILGPU;

namespace DistillSpec.Kernels;

/// <summary>Index of the largest of x[offset .. offset + length), so greedy decoding reads back one int, not a row of logits.</summary>
internal static class ArgmaxKernel
{
    // A single group: threads stride over the row keeping their first maximum, then a tree over
    // (value, index) pairs in shared memory; ties go to the lower index, as TensorPrimitives.IndexOfMax.
    // Dynamic shared memory: 2 * Group.DimX uints (values stored as their bits).
    public static void Argmax(ArrayView<float> x, int offset, int length, ArrayView<int> result)
    {
        var shared = SharedMemory.GetDynamic<uint>();
        int g = Group.DimX, t = Group.IdxX;
        var values = shared.SubView(0, g);
        var indices = shared.SubView(g, g);

        float best = float.NegativeInfinity;
        int bestIndex = length;
        for (int i = t; i < length; i += g)
        {
            float v = x[offset + i];
            if (v > best || bestIndex == length) { best = v; bestIndex = i; }
        }
        values[t] = Interop.FloatAsInt(best);
        indices[t] = (uint)bestIndex;
        Group.Barrier();
        for (int stride = g / 2; stride > 0; stride >>= 1)
        {
            if (t < stride)
            {
                float mine = Interop.IntAsFloat(values[t]), other = Interop.IntAsFloat(values[t + stride]);
                int index = (int)indices[t], otherIndex = (int)indices[t + stride];
                if (otherIndex < length && (index == length || other > mine || other == mine && otherIndex < index))
                {
                    values[t] = values[t + stride];
                    indices[t] = (uint)otherIndex;
                }
            }
            Group.Barrier();
        }
        if (t == 0) result[0] = (int)indices[0];
    }
}
