using DistillSpec.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace DistillSpec.Kernels;

/// <summary>
/// Reads f32 weights of a row-major (rows, cols) matrix from a stored format inside a kernel: the
/// device counterpart of the engine's IWeightRows. MatMulKernels and ElementwiseKernels.Embed are
/// generic over this struct, so ILGPU compiles one specialised kernel per format. A new format
/// (Q4_0, Q4_K...) is a new struct with its upload, plus one line in DeviceWeightFormats.
/// </summary>
internal interface IDeviceWeights
{
    /// <summary>Element `index` = row * cols + col, expanded to f32.</summary>
    float At(int index);
}

/// <summary>A stored (non-f32) format: how a host matrix becomes device buffers and a view over them.</summary>
internal interface IDeviceWeightFormat<TSelf> : IDeviceWeights where TSelf : struct, IDeviceWeightFormat<TSelf>
{
    static abstract WeightFormat Format { get; }

    /// <summary>Quantises (rows, cols) as the CPU backends do and copies the result to the accelerator.</summary>
    static abstract GpuMatrix<TSelf> Upload(Accelerator accelerator, AcceleratorStream stream, ReadOnlySpan<float> data, int rows, int cols);
}

/// <summary>f32 weights: any GpuTensor (f32 matrices are plain tensors, so they can also be downloaded).</summary>
internal readonly struct F32Weights(ArrayView<float> values) : IDeviceWeights
{
    private readonly ArrayView<float> _values = values;

    public float At(int index) => _values[index];
}

/// <summary>BF16 bit patterns (rows * cols ushorts): the top half of each f32.</summary>
internal readonly struct Bf16Weights(ArrayView<ushort> bits) : IDeviceWeightFormat<Bf16Weights>
{
    private readonly ArrayView<ushort> _bits = bits;

    public float At(int index) => Interop.IntAsFloat((uint)_bits[index] << 16);

    public static WeightFormat Format => WeightFormat.BF16;

    public static GpuMatrix<Bf16Weights> Upload(Accelerator accelerator, AcceleratorStream stream, ReadOnlySpan<float> data, int rows, int cols)
    {
        var host = new Bf16Tensor(data, rows, cols);
        var bits = accelerator.Allocate1D<ushort>(host.Bits.Length);
        bits.View.CopyFromCPU(stream, host.Bits);
        return new GpuMatrix<Bf16Weights>(new Bf16Weights(bits.View), rows, cols, bits);
    }
}

/// <summary>Q8_0 as Q8Tensor lays it out: rows * cols int8 quants, and one f32 scale per block of 32 along a row.</summary>
internal readonly struct Q8Weights(ArrayView<sbyte> quants, ArrayView<float> scales) : IDeviceWeightFormat<Q8Weights>
{
    private readonly ArrayView<sbyte> _quants = quants;
    private readonly ArrayView<float> _scales = scales;

    // index >= 0, so the shift is the block index (cols is a multiple of the block size).
    public float At(int index) => _quants[index] * _scales[index >> WeightFormats.Q8BlockShift];

    public static WeightFormat Format => WeightFormat.Q8_0;

    public static GpuMatrix<Q8Weights> Upload(Accelerator accelerator, AcceleratorStream stream, ReadOnlySpan<float> data, int rows, int cols)
    {
        var host = new Q8Tensor(data, rows, cols);
        var quants = accelerator.Allocate1D<sbyte>(host.Quants.Length);
        var scales = accelerator.Allocate1D<float>(host.Scales.Length);
        quants.View.CopyFromCPU(stream, host.Quants);
        scales.View.CopyFromCPU(stream, host.Scales);
        return new GpuMatrix<Q8Weights>(new Q8Weights(quants.View, scales.View), rows, cols, quants, scales);
    }
}

/// <summary>A weight matrix of an IlgpuBackend in a stored (non-f32) format.</summary>
internal interface IGpuMatrix
{
    WeightFormat Format { get; }
}

/// <summary>A (rows, cols) weight matrix in device memory in a stored format; owns its buffers.</summary>
internal sealed class GpuMatrix<TWeights>(TWeights weights, int rows, int cols, params MemoryBuffer[] buffers)
    : Tensor(rows * cols), IGpuMatrix where TWeights : struct, IDeviceWeightFormat<TWeights>
{
    public TWeights Weights { get; } = weights;

    public WeightFormat Format => TWeights.Format;

    public int Rows { get; } = rows;

    public int Cols { get; } = cols;

    public override void Dispose()
    {
        foreach (var b in buffers) b.Dispose();
    }
}
