using DistillSpec.Backends;
using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec.Kernels;

/// <summary>
/// IDeviceSampler on an IlgpuBackend. Greedy decoding is one ArgmaxKernel launch; sampling with
/// temperature, top-k and top-p is the fused verification kernel with no drafts, whose bonus draw
/// is exactly Sampler.Distribution then Sampler.Draw on one row. Either reads back one number.
/// </summary>
public sealed class DeviceSampler : IDeviceSampler
{
    private readonly IlgpuBackend _backend;
    private readonly SamplingSettings _settings;
    private readonly DeviceVerifier? _verifier;
    private readonly double[] _uniform = new double[1];

    private DeviceSampler(IlgpuBackend backend, SamplingSettings settings, DeviceVerifier? verifier)
    {
        _backend = backend;
        _settings = settings;
        _verifier = verifier;
    }

    /// <summary>A sampler for these settings, or null when the device cannot sample with them (no fp64 for the draw).</summary>
    internal static DeviceSampler? For(IlgpuBackend backend, SamplingSettings settings)
    {
        settings.Validate();
        if (settings.Greedy) return new DeviceSampler(backend, settings, verifier: null);
        var verifier = DeviceVerifier.For(backend);
        return verifier is null ? null : new DeviceSampler(backend, settings, verifier);
    }

    public int Sample(Tensor logits, int vocab, double uniform)
    {
        if (vocab < 1 || logits.Length < vocab)
            throw new ArgumentException($"expected a row of {vocab} logits, got a tensor of {logits.Length}", nameof(logits));
        if (_verifier is null) return _backend.Argmax(logits, 0, vocab);
        _uniform[0] = uniform;
        return _verifier.Verify(logits, vocab, [], [], _uniform, _settings, lenience: 1f, LenienceFunction.Linear, []).Next;
    }

    public void Dispose() => _verifier?.Dispose();
}
