using DistillSpec.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace DistillSpec.Kernels;

/// <summary>
/// The kernels that read weight matrices (matrix-vector, tiled matrix-matrix, embedding lookup),
/// compiled for one weight format on one accelerator. IlgpuBackend keeps one set per format it has
/// seen, so only the formats a model uses are compiled.
/// </summary>
internal abstract class WeightKernels
{
    public abstract void MatVec(KernelConfig config, ArrayView<float> x, Tensor weight, ArrayView<float> bias, int hasBias, int inDim, ArrayView<float> y);

    public abstract void Tiled(KernelConfig config, ArrayView<float> x, Tensor weight, ArrayView<float> bias, int hasBias,
        int rows, int inDim, int outDim, int tile, ArrayView<float> y);

    public abstract void Embed(int elements, Tensor table, ArrayView<int> tokens, int dim, ArrayView<float> output);
}

/// <param name="view">The kernel-side view of a weight tensor of this format.</param>
internal sealed class WeightKernels<TWeights>(Accelerator accelerator, Func<Tensor, TWeights> view) : WeightKernels
    where TWeights : struct, IDeviceWeights
{
    private readonly Action<KernelConfig, ArrayView<float>, TWeights, ArrayView<float>, int, int, ArrayView<float>> _matVec =
        accelerator.LoadStreamKernel<ArrayView<float>, TWeights, ArrayView<float>, int, int, ArrayView<float>>(MatMulKernels.MatVec);

    private readonly Action<KernelConfig, ArrayView<float>, TWeights, ArrayView<float>, int, int, int, int, int, ArrayView<float>> _tiled =
        accelerator.LoadStreamKernel<ArrayView<float>, TWeights, ArrayView<float>, int, int, int, int, int, ArrayView<float>>(MatMulKernels.Tiled);

    private readonly Action<Index1D, TWeights, ArrayView<int>, int, ArrayView<float>> _embed =
        accelerator.LoadAutoGroupedStreamKernel<Index1D, TWeights, ArrayView<int>, int, ArrayView<float>>(ElementwiseKernels.Embed);

    public override void MatVec(KernelConfig config, ArrayView<float> x, Tensor weight, ArrayView<float> bias, int hasBias, int inDim, ArrayView<float> y) =>
        _matVec(config, x, view(weight), bias, hasBias, inDim, y);

    public override void Tiled(KernelConfig config, ArrayView<float> x, Tensor weight, ArrayView<float> bias, int hasBias,
        int rows, int inDim, int outDim, int tile, ArrayView<float> y) =>
        _tiled(config, x, view(weight), bias, hasBias, rows, inDim, outDim, tile, y);

    public override void Embed(int elements, Tensor table, ArrayView<int> tokens, int dim, ArrayView<float> output) =>
        _embed(elements, view(table), tokens, dim, output);
}

/// <summary>
/// The weight formats IlgpuBackend stores, one entry each: f32 as plain GpuTensors, the others as
/// GpuMatrix of their IDeviceWeightFormat struct. Adding a format is adding its struct and a line here.
/// </summary>
internal static class DeviceWeightFormats
{
    private static readonly Dictionary<WeightFormat, IStored> ByFormat = new()
    {
        [WeightFormat.BF16] = new Stored<Bf16Weights>(),
        [WeightFormat.Q8_0] = new Stored<Q8Weights>(),
    };

    public static bool Supports(WeightFormat format) => format == WeightFormat.F32 || ByFormat.ContainsKey(format);

    /// <summary>A (rows, cols) matrix in `format` on the accelerator; null for f32, which the caller uploads as a plain tensor.</summary>
    public static Tensor? Upload(Accelerator accelerator, AcceleratorStream stream, ReadOnlySpan<float> data, int rows, int cols, WeightFormat format)
    {
        if (format == WeightFormat.F32) return null;
        if (!ByFormat.TryGetValue(format, out var stored)) throw new NotSupportedException($"the ILGPU backend does not store {format} weights");
        return stored.Upload(accelerator, stream, data, rows, cols);
    }

    public static WeightKernels Kernels(Accelerator accelerator, WeightFormat format) =>
        format == WeightFormat.F32
            ? new WeightKernels<F32Weights>(accelerator, t => new F32Weights(((GpuTensor)t).View))
            : ByFormat[format].Kernels(accelerator);

    /// <summary>The weight-reading kernels' entry points for every format, for compiling them ahead of time.</summary>
    public static IEnumerable<(WeightFormat Format, Type Weights)> WeightTypes =>
        [(WeightFormat.F32, typeof(F32Weights)), .. ByFormat.Select(s => (s.Key, s.Value.Weights))];

    private interface IStored
    {
        Type Weights { get; }
        Tensor Upload(Accelerator accelerator, AcceleratorStream stream, ReadOnlySpan<float> data, int rows, int cols);
        WeightKernels Kernels(Accelerator accelerator);
    }

    private sealed class Stored<TWeights> : IStored where TWeights : struct, IDeviceWeightFormat<TWeights>
    {
        public Type Weights => typeof(TWeights);

        public Tensor Upload(Accelerator accelerator, AcceleratorStream stream, ReadOnlySpan<float> data, int rows, int cols) =>
            TWeights.Upload(accelerator, stream, data, rows, cols);

        public WeightKernels Kernels(Accelerator accelerator) =>
            new WeightKernels<TWeights>(accelerator, t => ((GpuMatrix<TWeights>)t).Weights);
    }
}
