namespace DistillSpec.Backends;

/// <summary>A flat f32 buffer owned by a backend: weights, activations or a KV cache.</summary>
public abstract class Tensor : IDisposable
{
    protected Tensor(int length) => Length = length;

    public int Length { get; }

    public virtual void Dispose() { }
}

/// <summary>Host-memory tensor shared by the CPU backends.</summary>
public sealed class CpuTensor : Tensor
{
    public CpuTensor(int length) : base(length) => Data = new float[length];

    public CpuTensor(float[] data) : base(data.Length) => Data = data;

    public float[] Data { get; }

    public Span<float> Span => Data;
}
