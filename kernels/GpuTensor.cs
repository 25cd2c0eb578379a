using DistillSpec.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace DistillSpec.Kernels;

/// <summary>A tensor in accelerator memory: weights, activations or a KV cache of an IlgpuBackend.</summary>
public sealed class GpuTensor : Tensor
{
    internal GpuTensor(MemoryBuffer1D<float, Stride1D.Dense> buffer) : base((int)buffer.Length) => Buffer = buffer;

    public MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; }

    internal ArrayView<float> View => Buffer.View;

    public override void Dispose() => Buffer.Dispose();
}
