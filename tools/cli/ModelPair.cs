using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec.Cli;

/// <summary>A target and its draft loaded on one backend, checked to share a vocabulary.</summary>
internal sealed class ModelPair : IDisposable
{
    private ModelPair(IBackend backend, LanguageModel target, LanguageModel draft)
    {
        Backend = backend;
        Target = target;
        Draft = draft;
    }

    public IBackend Backend { get; }
    public LanguageModel Target { get; }
    public LanguageModel Draft { get; }

    /// <summary>Both models with their weights stored as format (compute stays f32).</summary>
    public static ModelPair Load(string targetDir, string draftDir, int threads, WeightFormat format)
    {
        var backend = new SimdBackend(threads);
        LanguageModel? target = null, draft = null;
        try
        {
            target = LanguageModel.Load(targetDir, backend, format);
            draft = LanguageModel.Load(draftDir, backend, format);
            VocabularyCheck.EnsureShared(target, draft);
            return new ModelPair(backend, target, draft);
        }
        catch
        {
            draft?.Dispose();
            target?.Dispose();
            backend.Dispose();
            throw;
        }
    }

    public IReadOnlySet<int>? StopTokens(bool ignoreEos) => ignoreEos ? null : Target.Tokenizer.EosIds.ToHashSet();

    public SpeculativeDecoder Decoder(SamplingSettings settings, SpeculativeOptions options, int seed) =>
        new(Target.Transformer, Draft.Transformer, settings, options, seed);

    /// <summary>Target-only decoding of the same prompt, length and settings: the speed-up's reference.</summary>
    public GenerationResult Baseline(int[] prompt, int tokens, SamplingSettings settings, int seed, IReadOnlySet<int>? stop) =>
        new Generator(Target.Transformer, settings, seed).Generate(prompt, tokens, stop);

    /// <summary>Runs both decoders briefly so JIT compilation is not timed as decoding.</summary>
    public void WarmUp(int[] prompt, int tokens, SamplingSettings settings, SpeculativeOptions options)
    {
        using var decoder = Decoder(settings, options, seed: 0);
        for (int i = 0; i < 3; i++)
        {
            decoder.Generate(prompt, Math.Min(tokens, 16));
            Baseline(prompt, Math.Min(tokens, 16), settings, 0, null);
        }
    }

    public void Dispose()
    {
        Draft.Dispose();
        Target.Dispose();
        Backend.Dispose();
    }
}
