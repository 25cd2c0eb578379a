namespace DistillSpec.Backends;

/// <summary>Host-memory tensors and weight upload shared by the CPU backends.</summary>
public abstract class HostBackend
{
    public Tensor Allocate(int length) => new CpuTensor(length);

    public Tensor Upload(ReadOnlySpan<float> data) => new CpuTensor(data.ToArray());

    public bool Supports(WeightFormat format) => Enum.IsDefined(format);

    public Tensor UploadMatrix(ReadOnlySpan<float> data, int rows, int cols, WeightFormat format) =>
        CpuWeights.Create(data, rows, cols, format);

    public Tensor AdoptMatrix(float[] data, int rows, int cols, WeightFormat format) =>
        format == WeightFormat.F32 && data.Length == rows * cols ? new CpuTensor(data) : CpuWeights.Create(data, rows, cols, format);

    public Tensor AdoptStored(WeightFormat format, int rows, int cols, byte[] stored) => CpuWeights.FromStored(format, rows, cols, stored);

    public void Download(Tensor source, int offset, Span<float> destination) =>
        D(source).AsSpan(offset, destination.Length).CopyTo(destination);

    // A table lookup is the same in every CPU backend: copy (and expand) whole rows.
    public void Embed(Tensor table, ReadOnlySpan<int> tokens, int dim, Tensor output)
    {
        float[] o = D(output);
        for (int r = 0; r < tokens.Length; r++) CpuWeights.Row(table, tokens[r], dim, o.AsSpan(r * dim, dim));
    }

    protected static float[] D(Tensor t) => ((CpuTensor)t).Data;
}
