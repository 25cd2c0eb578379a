using DistillSpec.Backends;
using DistillSpec.Sampling;
using DistillSpec.Speculative;
using ILGPU;
using ILGPU.Runtime;

namespace DistillSpec.Kernels;

/// <summary>
/// IDeviceVerifier for a target on an IlgpuBackend: one FusedVerifyKernel launch per round. A call
/// uploads q (gamma x vocab; under greedy decoding q is the one-hot at each drafted id, which the
/// kernel rebuilds, so nothing) and one small block of uniforms and drafted ids, and reads back
/// gamma + 2 doubles (accepted, next, the overlaps); the target's logits never leave the device.
/// Buffers grow to the largest gamma and vocabulary seen. Not thread-safe.
/// </summary>
public sealed class DeviceVerifier : IDeviceVerifier, IDisposable
{
    private readonly IlgpuBackend _backend;
    private readonly AcceleratorStream _stream;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<double>, VerifyParameters> _verify;
    private MemoryBuffer1D<float, Stride1D.Dense>? _q, _p;
    private MemoryBuffer1D<double, Stride1D.Dense>? _inputs, _result;
    private double[] _hostInputs = [], _hostResult = [];

    /// <exception cref="ILGPU.CapabilityNotSupportedException">the device has no fp64 (some OpenCL devices).</exception>
    public DeviceVerifier(IlgpuBackend backend)
    {
        _backend = backend;
        _stream = backend.Accelerator.DefaultStream;
        _verify = backend.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<double>, VerifyParameters>(
            FusedVerifyKernel.Verify);
    }

    /// <summary>
    /// A verifier for a target on this backend, or null when its device cannot run the kernel; the
    /// decoder then verifies on the host.
    /// </summary>
    internal static DeviceVerifier? For(IlgpuBackend backend)
    {
        try
        {
            return new DeviceVerifier(backend);
        }
        catch (CapabilityNotSupportedException)
        {
            return null;
        }
    }

    public Verdict Verify(Tensor targetLogits, int vocab, ReadOnlySpan<float> q, ReadOnlySpan<int> drafted, ReadOnlySpan<double> uniforms,
        SamplingSettings settings, float lenience, LenienceFunction function, Span<double> overlaps)
    {
        int gamma = drafted.Length;
        if (targetLogits is not GpuTensor logits || logits.Buffer.Accelerator != _backend.Accelerator)
            throw new ArgumentException("the target's logits must be a tensor of this verifier's ILGPU backend", nameof(targetLogits));
        if (vocab < 1 || logits.Length < (gamma + 1) * vocab || q.Length != gamma * vocab || uniforms.Length != gamma + 1 || overlaps.Length < gamma)
            throw new ArgumentException($"for gamma {gamma} and vocab {vocab} expected logits of at least {(gamma + 1) * vocab}, q of {gamma * vocab}, " +
                                        $"{gamma + 1} uniforms and room for {gamma} overlaps; got {logits.Length}, {q.Length}, {uniforms.Length} and {overlaps.Length}");
        foreach (int y in drafted)
            if ((uint)y >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(drafted), y, $"drafted id outside the vocabulary of {vocab}");
        settings.Validate();
        if (!(lenience > 0f && lenience <= 1f) || !Enum.IsDefined(function))
            throw new ArgumentOutOfRangeException(nameof(lenience), $"expected eps in (0, 1] and a LenienceFunction, got {lenience} and {function}");
        Reserve(gamma, vocab);

        uniforms.CopyTo(_hostInputs);
        for (int i = 0; i < gamma; i++) _hostInputs[gamma + 1 + i] = drafted[i];
        if (gamma > 0 && !settings.Greedy) _q!.View.SubView(0, q.Length).CopyFromCPU(_stream, q);
        _inputs!.View.SubView(0, 2 * gamma + 1).CopyFromCPU(_stream, _hostInputs.AsSpan(0, 2 * gamma + 1));

        var parameters = new VerifyParameters
        {
            Vocab = vocab,
            Gamma = gamma,
            TopK = settings.TopK,
            OneHotQ = settings.Greedy ? 1 : 0,
            IndexBits = 32 - int.LeadingZeroCount(vocab - 1),
            Temperature = settings.Greedy ? 0f : settings.Temperature,
            TopP = settings.TopP,
            Lenience = lenience,
            LenienceFunction = (int)function,
        };
        int group = _backend.GroupSize;
        var start = _backend.BeginLaunch();
        _verify(new KernelConfig(1, group, SharedMemoryConfig.RequestDynamic<double>(2 * group)),
            logits.Buffer.View, _q!.View, _inputs.View, _p!.View, _result!.View, parameters);
        _backend.EndLaunch("FusedVerify", start);

        var result = _hostResult.AsSpan(0, FusedVerifyKernel.ResultHeader + gamma);
        _result.View.SubView(0, result.Length).CopyToCPU(_stream, result);
        var verdict = new Verdict((int)result[0], (int)result[1]);
        int tested = verdict.Accepted < gamma ? verdict.Accepted + 1 : gamma;
        result.Slice(FusedVerifyKernel.ResultHeader, tested).CopyTo(overlaps);
        return verdict;
    }

    private void Reserve(int gamma, int vocab)
    {
        var accelerator = _backend.Accelerator;
        if (_q is null || _q.Length < Math.Max(1, gamma * vocab))
        {
            _q?.Dispose();
            _q = accelerator.Allocate1D<float>(Math.Max(1, gamma * vocab));
        }
        if (_p is null || _p.Length < vocab)
        {
            _p?.Dispose();
            _p = accelerator.Allocate1D<float>(vocab);
        }
        if (_inputs is null || _inputs.Length < 2 * gamma + 1)
        {
            _inputs?.Dispose();
            _result?.Dispose();
            _inputs = accelerator.Allocate1D<double>(2 * gamma + 1);
            _result = accelerator.Allocate1D<double>(FusedVerifyKernel.ResultHeader + gamma);
            _hostInputs = new double[2 * gamma + 1];
            _hostResult = new double[FusedVerifyKernel.ResultHeader + gamma];
        }
    }

    public void Dispose()
    {
        _q?.Dispose();
        _p?.Dispose();
        _inputs?.Dispose();
        _result?.Dispose();
    }
}
