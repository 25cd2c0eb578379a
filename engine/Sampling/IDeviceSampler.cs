using DistillSpec.Backends;

namespace DistillSpec.Sampling;

/// <summary>
/// Draws tokens where a backend keeps the logits, so decoding reads back one token id instead of a
/// row of logits. Made by <see cref="IBackend.CreateSampler"/> for one SamplingSettings; draws as
/// <see cref="Sampler.Sample"/> does given the same uniform (greedy takes the first largest logit
/// and needs none), up to float rounding in the last bits of the distribution.
/// </summary>
public interface IDeviceSampler : IDisposable
{
    /// <param name="logits">On the sampler's backend; row 0, (vocab), is drawn from.</param>
    /// <param name="uniform">In [0, 1); ignored under greedy decoding.</param>
    int Sample(Tensor logits, int vocab, double uniform);
}
