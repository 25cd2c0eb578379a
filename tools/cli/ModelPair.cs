using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Kernels;
using DistillSpec.Models;
using DistillSpec.Profiling;
using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec.Cli;

/// <summary>
/// A target and its draft, each on its --device, checked to share a vocabulary. With the target on
/// an ILGPU device, verification runs there too (DeviceVerifier).
/// </summary>
internal sealed class ModelPair : IDisposable
{
    private ModelPair(IBackend targetBackend, IBackend draftBackend, LanguageModel target, LanguageModel draft,
        DeviceVerifier? verifier, KernelProfiler? profiler)
    {
        TargetBackend = targetBackend;
        DraftBackend = draftBackend;
        Target = target;
        Draft = draft;
        Verifier = verifier;
        Profiler = profiler;
    }

    public IBackend TargetBackend { get; }
    public IBackend DraftBackend { get; }
    public LanguageModel Target { get; }
    public LanguageModel Draft { get; }
    public DeviceVerifier? Verifier { get; }
    public KernelProfiler? Profiler { get; }

    public string Devices =>
        $"target on {TargetBackend.Name}{(Verifier is null ? "" : " (verifies there)")}, draft on {(ReferenceEquals(DraftBackend, TargetBackend) ? "the same" : DraftBackend.Name)}";

    /// <summary>The target with its weights stored as format, the draft as draftFormat (compute stays f32).</summary>
    public static ModelPair Load(string targetDir, string draftDir, string targetDevice, string draftDevice, int threads, WeightFormat format,
        WeightFormat draftFormat, KernelProfiler? profiler = null, ModelLoadOptions? loading = null)
    {
        IBackend? targetBackend = null, draftBackend = null;
        LanguageModel? target = null, draft = null;
        DeviceVerifier? verifier = null;
        try
        {
            targetBackend = DeviceBackend.Open(targetDevice, threads, profiler, "target", KernelProfiler.TargetThread);
            draftBackend = SameDevice(targetDevice, draftDevice, targetBackend)
                ? targetBackend
                : DeviceBackend.Open(draftDevice, threads, profiler, "draft", KernelProfiler.DraftThread);
            if (ReferenceEquals(draftBackend, targetBackend)) profiler?.NameThread(KernelProfiler.TargetThread, $"target and draft ops: {targetBackend.Name}");
            target = LanguageModel.Load(targetDir, targetBackend, format, loading);
            draft = LanguageModel.Load(draftDir, draftBackend, draftFormat, loading);
            VocabularyCheck.EnsureShared(target, draft);
            verifier = DeviceVerifier.For(targetBackend);
            return new ModelPair(targetBackend, draftBackend, target, draft, verifier, profiler);
        }
        catch
        {
            verifier?.Dispose();
            draft?.Dispose();
            target?.Dispose();
            if (!ReferenceEquals(draftBackend, targetBackend)) draftBackend?.Dispose();
            targetBackend?.Dispose();
            throw;
        }
    }

    // One backend serves both models when they name the same device, or when the draft asks for
    // the CPU and the target's device resolved to it: two CPU backends would fight over the cores.
    private static bool SameDevice(string targetDevice, string draftDevice, IBackend target)
    {
        string t = targetDevice.Trim().ToLowerInvariant(), d = draftDevice.Trim().ToLowerInvariant();
        return t == d || d == "cpu" && DeviceBackend.Unwrapped(target) is SimdBackend;
    }

    public IReadOnlySet<int>? StopTokens(bool ignoreEos) => ignoreEos ? null : Target.Tokenizer.EosIds.ToHashSet();

    public SpeculativeDecoder Decoder(SamplingSettings settings, SpeculativeOptions options, int seed) =>
        new(Target.Transformer, Draft.Transformer, settings, options, seed, Verifier, Profiler);

    /// <summary>Target-only decoding of the same prompt, length and settings: the speed-up's reference.</summary>
    public GenerationResult Baseline(int[] prompt, int tokens, SamplingSettings settings, int seed, IReadOnlySet<int>? stop) =>
        new Generator(Target.Transformer, settings, seed).Generate(prompt, tokens, stop);

    /// <summary>
    /// Runs both decoders briefly so JIT and kernel compilation are not timed as decoding; once on
    /// a GPU target, whose kernels compile at their first launch, three times on the CPU, where
    /// tiered JIT needs repeats.
    /// </summary>
    public void WarmUp(int[] prompt, int tokens, SamplingSettings settings, SpeculativeOptions options)
    {
        using var decoder = Decoder(settings, options, seed: 0);
        int rounds = DeviceBackend.Unwrapped(TargetBackend) is SimdBackend ? 3 : 1;
        for (int i = 0; i < rounds; i++)
        {
            decoder.Generate(prompt, Math.Min(tokens, 16));
            Baseline(prompt, Math.Min(tokens, 16), settings, 0, null);
        }
        Profiler?.Clear();
    }

    public void Dispose()
    {
        Verifier?.Dispose();
        Draft.Dispose();
        Target.Dispose();
        if (!ReferenceEquals(DraftBackend, TargetBackend)) DraftBackend.Dispose();
        TargetBackend.Dispose();
    }
}
