using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec;

/// <summary>One decode step of each model, measured at load; the basis of every call's cost ratio.</summary>
public sealed record DecodeCalibration(TimeSpan TargetStep, TimeSpan DraftStep)
{
    /// <summary>c = one draft step / one target step.</summary>
    public double CostRatio => DraftStep / TargetStep;
}

/// <summary>
/// A target and a draft that shares its vocabulary, loaded for speculative decoding: the output is
/// exactly the target's (lossless by default), produced in fewer target passes.
/// <code>
/// using var pair = SpeculativePair.Load("weights/target", "weights/draft-code-tvd");
/// await foreach (var update in pair.GenerateAsync("def read_config(path):", new() { MaxTokens = 64, Temperature = 0 }))
///     Console.Write(update.Text);
/// </code>
/// </summary>
/// <remarks>
/// Loading does what a correct pairing needs: one backend for both models when they ask for the same
/// device (two CPU backends would fight over the cores), the vocabulary check, verification on the
/// target's device when it can, and a warm-up that also measures each model's decode step.
/// Thread safety and ownership are as for <see cref="LocalModel"/>: calls on the pair and on its
/// <see cref="Target"/> and <see cref="Draft"/> share one queue; the pair owns both models, their
/// backends and the verifier, and frees them on Dispose.
/// </remarks>
public sealed class SpeculativePair : IDisposable
{
    private const int WarmUpTokens = 16;
    private readonly FifoGate _gate;
    private readonly IDeviceVerifier? _verifier;

    private SpeculativePair(LocalModel target, LocalModel draft, FifoGate gate, IDeviceVerifier? verifier)
    {
        Target = target;
        Draft = draft;
        _gate = gate;
        _verifier = verifier;
    }

    public LocalModel Target { get; }

    public LocalModel Draft { get; }

    /// <summary>Where each model runs, in words.</summary>
    public string Devices =>
        $"target on {Target.Device}{(_verifier is null ? "" : " (verifies there)")}, draft on {(ReferenceEquals(Draft.Backend, Target.Backend) ? "the same backend" : Draft.Device)}";

    /// <summary>Measured by the warm-up at load; null when it was turned off.</summary>
    public DecodeCalibration? Calibration { get; private set; }

    /// <summary>Calls waiting behind the one that is running.</summary>
    public int QueuedCalls => _gate.Waiting;

    /// <exception cref="ModelFormatException">a file of either model is missing or malformed (the message names it).</exception>
    /// <exception cref="VocabularyMismatchException">the models do not share a vocabulary.</exception>
    /// <exception cref="DeviceUnavailableException">a device is missing or cannot be used.</exception>
    public static SpeculativePair Load(string targetPath, string draftPath, SpeculativePairOptions? options = null) =>
        Load(targetPath, draftPath, options, CancellationToken.None);

    /// <summary>Loads on a thread-pool thread; cancellation is seen between the models' loads and before the warm-up.</summary>
    public static Task<SpeculativePair> LoadAsync(string targetPath, string draftPath, SpeculativePairOptions? options = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => Load(targetPath, draftPath, options, cancellationToken), cancellationToken);

    private static SpeculativePair Load(string targetPath, string draftPath, SpeculativePairOptions? options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(targetPath);
        ArgumentException.ThrowIfNullOrEmpty(draftPath);
        options ??= new SpeculativePairOptions();
        options.Target.Validate($"{nameof(options)}.{nameof(options.Target)}");
        options.Draft.Validate($"{nameof(options)}.{nameof(options.Draft)}");
        var profiler = options.Target.Profiler ?? options.Draft.Profiler;

        var disposables = new Stack<IDisposable>();
        try
        {
            var (targetBackend, targetDevice) = LocalModel.OpenBackend(options.Target, profiler, Profiling.KernelProfiler.TargetThread, "target");
            disposables.Push(targetBackend);
            bool shared = BackendRegistry.SameDevice(options.Target.Device, options.Draft.Device, targetBackend);
            var (draftBackend, draftDevice) = shared ? (targetBackend, targetDevice)
                : LocalModel.OpenBackend(options.Draft, profiler, Profiling.KernelProfiler.DraftThread, "draft");
            if (!shared) disposables.Push(draftBackend);

            cancellationToken.ThrowIfCancellationRequested();
            var target = LanguageModel.Load(targetPath, targetBackend, options.Target.WeightFormat, options.Target.Loading);
            disposables.Push(target);
            cancellationToken.ThrowIfCancellationRequested();
            var draft = LanguageModel.Load(draftPath, draftBackend, options.Draft.WeightFormat, options.Draft.Loading);
            disposables.Push(draft);
            VocabularyCheck.EnsureShared(target, draft);
            var verifier = targetBackend.CreateVerifier();

            var gate = new FifoGate();
            var pair = new SpeculativePair(
                new LocalModel(target, targetBackend, targetDevice, ownsBackend: true, gate, ownedByPair: true, profiler),
                new LocalModel(draft, draftBackend, draftDevice, ownsBackend: !shared, gate, ownedByPair: true, profiler),
                gate, verifier);
            disposables.Clear();
            if (options.WarmUp)
            {
                try
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    pair.Calibration = pair.WarmUp();
                }
                catch
                {
                    pair.Dispose();
                    throw;
                }
            }
            return pair;
        }
        catch
        {
            while (disposables.TryPop(out var d)) d.Dispose();
            throw;
        }
    }


    /// <summary>
    /// Streams speculative decoding of the prompt text: each update says whether its token was an
    /// accepted draft, a target correction or a bonus token, and the last one carries the measures.
    /// </summary>
    /// <param name="speculation">Drafts per round, lenience and dynamic drafting; null for the defaults (lossless, gamma 4).</param>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(string prompt, GenerationOptions? options = null,
        SpeculativeOptions? speculation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= new GenerationOptions();
        return GenerateAsync(Target.Encode(prompt, options.AddBos), options, speculation, cancellationToken);
    }

    /// <summary>As the text overload, from prompt token ids used as given.</summary>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(IReadOnlyList<int> promptTokens, GenerationOptions? options = null,
        SpeculativeOptions? speculation = null, CancellationToken cancellationToken = default)
    {
        var prompt = Target.CheckPrompt(promptTokens);
        options ??= new GenerationOptions();
        speculation = (speculation ?? new SpeculativeOptions()).Validate();
        return GenerationStream.Run(_gate, Target.Lifetime, Target.Tokenizer, options, (sink, seed, stop) =>
        {
            var stopTokens = Target.StopTokens(options);
            using var decoder = Decoder(options, speculation, seed);
            var result = options.MeasureBaseline
                ? decoder.GenerateAgainstBaseline(prompt, options.MaxTokens, seed, stopTokens, sink.Add, seed, stop)
                : decoder.Generate(prompt, options.MaxTokens, stopTokens, sink.Add, seed, stop);
            var stats = result.Stats.Baseline is null ? result.Stats with { Baseline = Estimate(result) } : result.Stats;
            return new RunOutcome(result.PromptTokens, result.PromptTime, result.Tokens.Length, result.DecodeTime, result.StopReason, stats);
        }, cancellationToken);
    }

    /// <summary>Streams speculative decoding of the assistant's reply to a conversation, through the target's chat template.</summary>
    /// <exception cref="InvalidOperationException">the target has no chat template.</exception>
    public IAsyncEnumerable<GenerationUpdate> ChatAsync(IReadOnlyList<Chat.ChatMessage> messages, GenerationOptions? options = null,
        SpeculativeOptions? speculation = null, CancellationToken cancellationToken = default) =>
        GenerateAsync(Target.EncodeChat(messages), options, speculation, cancellationToken);

    /// <summary>This pair as a Microsoft.Extensions.AI chat client decoding speculatively; the client does not own the pair.</summary>
    public Microsoft.Extensions.AI.IChatClient AsChatClient(SpeculativeOptions? speculation = null) => new LocalChatClient(this, speculation);

    /// <summary>The whole speculative continuation of the prompt text at once.</summary>
    public Task<Completion> CompleteAsync(string prompt, GenerationOptions? options = null, SpeculativeOptions? speculation = null,
        CancellationToken cancellationToken = default) =>
        GenerationStream.Collect(GenerateAsync(prompt, options, speculation, cancellationToken));

    private SpeculativeDecoder Decoder(GenerationOptions options, SpeculativeOptions speculation, int seed) =>
        Decoder(options.Sampling, speculation, seed);

    // Outside the call queue: for single-threaded measurement tools only.
    internal SpeculativeDecoder Decoder(SamplingSettings settings, SpeculativeOptions speculation, int seed) =>
        new(Target.Model.Transformer, Draft.Model.Transformer, settings, speculation, seed, _verifier, Target.Profiler);

    internal bool VerifiesOnDevice => _verifier is not null;

    // Target-only decoding of the same length at the calibrated step time; the prefill is the
    // speculative run's, which also prefilled the draft, so the estimate leans towards a lower speed-up.
    private BaselineTiming? Estimate(SpeculativeResult result)
    {
        if (Calibration is not { } calibration) return null;
        int steps = Math.Max(result.Tokens.Length - 1, 0);
        var decode = calibration.TargetStep * steps;
        return new BaselineTiming(result.Tokens.Length, result.PromptTime + decode, steps, decode) { Estimated = true };
    }

    // Runs both decoders so JIT and kernel compilation are not timed as decoding (once on a device,
    // whose kernels compile at their first launch; three times on the CPU, where tiered JIT needs
    // repeats), then times a decode step of each model: the fastest of three short runs, since one
    // hiccup of a busy machine in a single 16-token run could double a step's time.
    private DecodeCalibration WarmUp()
    {
        const int measured = 3;
        var prompt = Target.Encode("Hello");
        var greedy = new GenerationOptions { Temperature = 0 };
        int warmUp = Target.Backend.Kind == BackendKind.Cpu ? 3 : 1;
        TimeSpan targetStep = TimeSpan.MaxValue, draftStep = TimeSpan.MaxValue;
        using (_gate.EnterAsync(CancellationToken.None).GetAwaiter().GetResult())
        using (var decoder = Decoder(greedy, new SpeculativeOptions(), seed: 0))
        {
            for (int i = 0; i < warmUp + measured; i++)
            {
                var speculative = decoder.Generate(prompt, WarmUpTokens, seed: 0);
                var baseline = new Generator(Target.Model.Transformer, greedy.Sampling, 0).Generate(prompt, WarmUpTokens);
                if (i < warmUp) continue;
                targetStep = Min(targetStep, BaselineTiming.From(baseline).StepTime);
                draftStep = Min(draftStep, speculative.Stats.DraftStepTime);
            }
        }
        Target.Profiler?.Clear();
        return new DecodeCalibration(targetStep, draftStep);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Stops calls in progress at their next step, waits for them, and frees both models, their backends and the verifier.</summary>
    public void Dispose()
    {
        bool target = Target.StopCalls(), draft = Draft.StopCalls();
        if (!target && !draft) return;
        using (_gate.EnterAsync(CancellationToken.None).GetAwaiter().GetResult())
        {
            _verifier?.Dispose();
            Draft.Free();
            Target.Free();
        }
    }
}
