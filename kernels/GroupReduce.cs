using ILGPU;
using ILGPU.Algorithms;

namespace DistillSpec.Kernels;

/// <summary>
/// Reductions across one group through shared memory (a tree of Group.DimX / 2, / 4, ... adds).
/// Plain barriers instead of warp shuffles: the same code then runs on CUDA, on OpenCL 1.2
/// devices without subgroups (NVIDIA's) and on ILGPU's CPU accelerator. Group sizes are powers
/// of two; scratch is at least Group.DimX floats of shared memory; every thread gets the result.
/// </summary>
internal static class GroupReduce
{
    public static float Sum(ArrayView<float> scratch, float value)
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int stride = Group.DimX / 2; stride > 0; stride >>= 1)
        {
            if (t < stride) scratch[t] += scratch[t + stride];
            Group.Barrier();
        }
        float result = scratch[0];
        // scratch is reused by the caller's next reduction.
        Group.Barrier();
        return result;
    }

    public static float Max(ArrayView<float> scratch, float value)
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int stride = Group.DimX / 2; stride > 0; stride >>= 1)
        {
            if (t < stride) scratch[t] = XMath.Max(scratch[t], scratch[t + stride]);
            Group.Barrier();
        }
        float result = scratch[0];
        Group.Barrier();
        return result;
    }
}
