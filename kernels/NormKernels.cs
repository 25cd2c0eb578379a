using ILGPU;
using ILGPU.Algorithms;

namespace DistillSpec.Kernels;

/// <summary>
/// Row-wise kernels: one group per row of x (rows, dim); threads stride along the row and the
/// group reduces. Dynamic shared memory: Group.DimX floats.
/// </summary>
internal static class NormKernels
{
    // y = x / sqrt(mean(x^2) + eps) * weight
    public static void RmsNorm(ArrayView<float> x, ArrayView<float> weight, int dim, float eps, ArrayView<float> y)
    {
        var scratch = SharedMemory.GetDynamic<float>();
        int row = Grid.IdxX * dim;
        float squares = 0f;
        for (int i = Group.IdxX; i < dim; i += Group.DimX) squares += x[row + i] * x[row + i];
        float inv = XMath.Rsqrt(GroupReduce.Sum(scratch, squares) / dim + eps);
        for (int i = Group.IdxX; i < dim; i += Group.DimX) y[row + i] = x[row + i] * inv * weight[i];
    }

    // y = (x - mean) / sqrt(var + eps) * weight + bias; two passes (mean, then centred squares)
    // because E[x^2] - mean^2 cancels badly in f32.
    public static void LayerNorm(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, int dim, float eps,
        ArrayView<float> y)
    {
        var scratch = SharedMemory.GetDynamic<float>();
        int row = Grid.IdxX * dim;
        float sum = 0f;
        for (int i = Group.IdxX; i < dim; i += Group.DimX) sum += x[row + i];
        float mean = GroupReduce.Sum(scratch, sum) / dim;
        float squares = 0f;
        for (int i = Group.IdxX; i < dim; i += Group.DimX)
        {
            float c = x[row + i] - mean;
            squares += c * c;
        }
        float inv = XMath.Rsqrt(GroupReduce.Sum(scratch, squares) / dim + eps);
        for (int i = Group.IdxX; i < dim; i += Group.DimX) y[row + i] = (x[row + i] - mean) * inv * weight[i] + bias[i];
    }

    // x = softmax(x) per row, in place
    public static void Softmax(ArrayView<float> x, int cols)
    {
        var scratch = SharedMemory.GetDynamic<float>();
        int row = Grid.IdxX * cols;
        float max = float.NegativeInfinity;
        for (int c = Group.IdxX; c < cols; c += Group.DimX) max = XMath.Max(max, x[row + c]);
        max = GroupReduce.Max(scratch, max);
        float total = 0f;
        for (int c = Group.IdxX; c < cols; c += Group.DimX) total += XMath.Exp(x[row + c] - max);
        float inv = 1f / GroupReduce.Sum(scratch, total);
        for (int c = Group.IdxX; c < cols; c += Group.DimX) x[row + c] = XMath.Exp(x[row + c] - max) * inv;
    }
}
