using DistillSpec.Backends;
using DistillSpec.Sampling;

namespace DistillSpec.Speculative;

/// <summary>
/// Verification on the device that holds the target's logits: p (the SamplingSettings transform),
/// the accept/reject rule of <see cref="Verifier"/> and the replacement or bonus draw all run
/// there, so a round reads back a verdict instead of gamma+1 rows of logits. Given the same
/// uniforms it decides as Verifier.Verify on p from Sampler.Distribution (up to float rounding
/// in the last bits of p, which can flip only decisions that sit on a boundary).
/// </summary>
public interface IDeviceVerifier : IDisposable
{
    /// <summary>
    /// Verdict.Next when row Verdict.Accepted of the target's logits holds a NaN or an infinity:
    /// the logits never reach the host, so the device says where decoding must stop.
    /// </summary>
    const int NonFiniteLogits = -1;

    /// <param name="targetLogits">(gamma+1, vocab) on the target's backend, from Transformer.Forward without a host span.</param>
    /// <param name="q">(gamma, vocab): the draft's distributions, already transformed by settings (so under
    /// greedy decoding the one-hot at each drafted id, which an implementation may rely on).</param>
    /// <param name="drafted">(gamma) the drafted ids.</param>
    /// <param name="uniforms">(gamma+1) as for Verifier.Verify.</param>
    /// <param name="lenience">eps, and <paramref name="function"/> f, of Verifier.AcceptanceProbability.</param>
    /// <param name="overlaps">(at least gamma) receives sum_y min(p, q) at each position up to and
    /// including the first rejection; later entries are left alone.</param>
    Verdict Verify(Tensor targetLogits, int vocab, ReadOnlySpan<float> q, ReadOnlySpan<int> drafted, ReadOnlySpan<double> uniforms,
        SamplingSettings settings, float lenience, LenienceFunction function, Span<double> overlaps);
}
