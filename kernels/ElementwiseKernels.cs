using ILGPU;
using ILGPU.Algorithms;

namespace DistillSpec.Kernels;

/// <summary>One thread per element (or per rotation pair); launched auto-grouped.</summary>
internal static class ElementwiseKernels
{
    // output (tokens, dim) = table[tokens], expanded from the table's stored format; index runs over tokens * dim
    public static void Embed<TWeights>(Index1D index, TWeights table, ArrayView<int> tokens, int dim, ArrayView<float> output)
        where TWeights : struct, IDeviceWeights =>
        output[index] = table.At(tokens[index / dim] * dim + index % dim);

    // x += source[offset ..]; AddRows with offset = firstRow * dim, and Add with offset 0
    public static void AddFrom(Index1D index, ArrayView<float> x, ArrayView<float> source, int offset) =>
        x[index] += source[offset + index];

    // Reads both inputs before writing, so output may alias gate or up.
    public static void SwiGlu(Index1D index, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> output)
    {
        float g = gate[index];
        output[index] = g / (1f + XMath.Exp(-g)) * up[index];
    }

    // GPT-2's gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    public static void Gelu(Index1D index, ArrayView<float> x)
    {
        float v = x[index];
        x[index] = 0.5f * v * (1f + XMath.Tanh(0.7978845608f * (v + 0.044715f * v * v * v)));
    }

    // x (rows, heads * headDim), Hugging Face rotate-half; index runs over rows * headDim / 2, one
    // (cos, sin) per (row, pair) shared by every head. The angle is f32 as in Hugging Face; it is
    // reduced to [-pi, pi] first (2 pi split in an exact 8-bit high part and a low part) so that
    // fast GPU sin/cos, accurate only near zero, stay accurate at long positions.
    public static void Rope(Index1D index, ArrayView<float> x, ArrayView<float> inverseFrequency, int heads, int headDim,
        int startPos)
    {
        int half = headDim / 2, row = index / half, i = index % half;
        float angle = (startPos + row) * inverseFrequency[i];
        float turns = (int)(angle * 0.15915494309f + 0.5f);
        angle = angle - turns * 6.28125f - turns * 0.0019353071795864769f;
        float cos = XMath.Cos(angle), sin = XMath.Sin(angle);
        for (int h = 0; h < heads; h++)
        {
            int at = (row * heads + h) * headDim + i;
            float x0 = x[at], x1 = x[at + half];
            x[at] = x0 * cos - x1 * sin;
            x[at + half] = x1 * cos + x0 * sin;
        }
    }
}
