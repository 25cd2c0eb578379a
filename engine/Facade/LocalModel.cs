using DistillSpec.Backends;
using DistillSpec.Chat;
using Microsoft.Extensions.AI;
using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Tokenization;

namespace DistillSpec;

/// <summary>
/// A model loaded for generation: the entry point for embedding the engine.
/// <code>
/// using var model = LocalModel.Load("weights/target");
/// await foreach (var update in model.GenerateAsync("def main():", new() { MaxTokens = 64, Temperature = 0 }))
///     Console.Write(update.Text);
/// </code>
/// </summary>
/// <remarks>
/// Thread safety: any number of callers may use one model at once. Calls run one at a time, in
/// arrival order, each with its own KV cache, so every call's output is what it would be alone.
/// Ownership: the model owns its backend (device memory, CPU worker threads) and frees it on
/// Dispose; a model that belongs to a <see cref="SpeculativePair"/> is freed by the pair instead.
/// Dispose stops calls in progress at their next step and waits for them.
/// </remarks>
public sealed class LocalModel : IDisposable
{
    private readonly IBackend _backend;
    private readonly bool _ownsBackend, _ownedByPair;
    private readonly FifoGate _gate;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Lazy<ChatTemplate?> _chatTemplate;
    private int _disposed;

    internal LocalModel(LanguageModel model, IBackend backend, string device, bool ownsBackend, FifoGate gate, bool ownedByPair,
        Profiling.KernelProfiler? profiler)
    {
        Model = model;
        Profiler = profiler;
        _backend = backend;
        Device = device;
        _ownsBackend = ownsBackend;
        _gate = gate;
        _ownedByPair = ownedByPair;
        // Loaded on first use, so a model whose template is broken still serves plain generation.
        _chatTemplate = new(() => ChatTemplate.FromModelDirectory(model.Directory));
    }

    /// <summary>The model directory it was loaded from.</summary>
    public string Path => Model.Directory;

    public ModelConfig Config => Model.Config;

    public TextTokenizer Tokenizer => Model.Tokenizer;

    /// <summary>What the requested device resolved to, in words.</summary>
    public string Device { get; }

    /// <summary>Positions the model can attend over: prompt plus generated tokens.</summary>
    public int ContextLength => Model.Config.MaxPositions;

    /// <summary>Calls waiting behind the one that is running.</summary>
    public int QueuedCalls => _gate.Waiting;

    /// <summary>The model's chat template (tokenizer_config.json's chat_template), or null when it has none.</summary>
    /// <exception cref="ChatTemplateException">the template is malformed (the message names the file, line and column).</exception>
    public ChatTemplate? ChatTemplate => _chatTemplate.Value;

    internal LanguageModel Model { get; }

    internal IBackend Backend => _backend;

    internal CancellationToken Lifetime => _lifetime.Token;

    /// <summary>Loads a Hugging Face model directory onto the device options name.</summary>
    /// <exception cref="ModelFormatException">a file of the model is missing or malformed (the message names it).</exception>
    /// <exception cref="DeviceUnavailableException">the device is missing or cannot be used.</exception>
    public static LocalModel Load(string path, ModelOptions? options = null) => Load(path, options, CancellationToken.None);

    /// <summary>Loads on a thread-pool thread; cancellation is seen before the weights are read and after.</summary>
    public static Task<LocalModel> LoadAsync(string path, ModelOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Load(path, options, cancellationToken), cancellationToken);

    private static LocalModel Load(string path, ModelOptions? options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new ModelOptions();
        options.Validate(nameof(options));
        var (backend, device) = OpenBackend(options, options.Profiler, Profiling.KernelProfiler.TargetThread, "model");
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var model = LanguageModel.Load(path, backend, options.WeightFormat, options.Loading);
            if (cancellationToken.IsCancellationRequested)
            {
                model.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
            }
            return new LocalModel(model, backend, device, ownsBackend: true, new FifoGate(), ownedByPair: false, options.Profiler);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    // The backend options name, with every op timed on the profiler's row traceThread (named for role) when profiling.
    internal static (IBackend Backend, string Device) OpenBackend(ModelOptions options, Profiling.KernelProfiler? profiler, int traceThread, string role)
    {
        var opened = BackendRegistry.Open(options.Device, new BackendOptions(options.Threads, profiler));
        if (profiler is null) return (opened.Backend, opened.Description);
        profiler.NameThread(traceThread, $"{role} ops: {opened.Backend.Name}");
        return (opened.Backend.Profiled(profiler, traceThread), opened.Description);
    }

    /// <summary>The prompt's ids as generation would see them (BOS per addBos, null: the model's convention).</summary>
    public int[] Encode(string text, bool? addBos = null) => Tokenizer.EncodePrompt(text, addBos);

    public string Decode(IReadOnlyList<int> ids) => Tokenizer.Decode([.. ids]);

    /// <summary>Streams a continuation of the prompt text.</summary>
    /// <exception cref="ArgumentException">options are out of range (the message names the field).</exception>
    /// <exception cref="ContextLengthException">prompt plus MaxTokens exceed <see cref="ContextLength"/>.</exception>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled, or the model was disposed.</exception>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= new GenerationOptions();
        return GenerateAsync(Encode(prompt, options.AddBos), options, cancellationToken);
    }

    /// <summary>Streams a continuation of prompt token ids, used as given (no BOS is added).</summary>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(IReadOnlyList<int> promptTokens, GenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var prompt = CheckPrompt(promptTokens);
        options ??= new GenerationOptions();
        return GenerationStream.Run(_gate, Lifetime, Tokenizer, options, (sink, seed, stop) =>
        {
            var result = new Generator(Model.Transformer, options.Sampling, seed, Profiler)
                .Generate(prompt, options.MaxTokens, StopTokens(options), (token) => sink.Add(token, TokenOrigin.Target), seed, stop);
            return new RunOutcome(result.PromptTokens, result.PromptTime, result.DecodeSteps, result.DecodeTime, result.StopReason, null);
        }, cancellationToken);
    }

    /// <summary>The whole continuation of the prompt text at once.</summary>
    public Task<Completion> CompleteAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        GenerationStream.Collect(GenerateAsync(prompt, options, cancellationToken));

    /// <summary>
    /// Streams the assistant's reply to a conversation, prompted through the model's chat template as it
    /// was trained (Hugging Face's apply_chat_template with add_generation_prompt).
    /// </summary>
    /// <exception cref="InvalidOperationException">the model has no chat template.</exception>
    /// <exception cref="ChatTemplateException">the template rejected the conversation (e.g. roles that do not alternate).</exception>
    public IAsyncEnumerable<GenerationUpdate> ChatAsync(IReadOnlyList<Chat.ChatMessage> messages, GenerationOptions? options = null,
        CancellationToken cancellationToken = default) =>
        GenerateAsync(EncodeChat(messages), options, cancellationToken);

    /// <summary>The prompt ids of a conversation: the rendered template, its special tokens as written (no BOS added).</summary>
    public int[] EncodeChat(IReadOnlyList<Chat.ChatMessage> messages, ChatTemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var template = ChatTemplate ?? throw new InvalidOperationException(
            $"the model '{Path}' has no chat template (chat_template in tokenizer_config.json or chat_template.jinja)");
        return Tokenizer.EncodePrompt(template.Render(messages, options), addBos: false);
    }

    /// <summary>This model as a Microsoft.Extensions.AI chat client; the client does not own the model.</summary>
    public IChatClient AsChatClient() => new LocalChatClient(this);

    internal Profiling.KernelProfiler? Profiler { get; }

    internal int[] CheckPrompt(IReadOnlyList<int> promptTokens)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ArgumentNullException.ThrowIfNull(promptTokens);
        if (promptTokens.Count == 0) throw new ArgumentException("the prompt must hold at least one token", nameof(promptTokens));
        foreach (int id in promptTokens)
            if ((uint)id >= (uint)Config.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(promptTokens), id, $"prompt token ids must be in [0, {Config.VocabSize})");
        return [.. promptTokens];
    }

    internal IReadOnlySet<int>? StopTokens(GenerationOptions options) =>
        options.IgnoreEndOfSequence ? null : Tokenizer.EosIds.ToHashSet();

    /// <summary>Stops calls in progress, waits for them, and frees the model; a pair's model is left to the pair.</summary>
    public void Dispose()
    {
        if (_ownedByPair || !StopCalls()) return;
        using (_gate.EnterAsync(CancellationToken.None).GetAwaiter().GetResult()) Free();
    }

    // False when already disposed. Calls in progress see the cancellation at their next step.
    internal bool StopCalls()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return false;
        _lifetime.Cancel();
        return true;
    }

    // Only while holding the gate, after StopCalls.
    internal void Free()
    {
        Model.Dispose();
        if (_ownsBackend) _backend.Dispose();
        _lifetime.Dispose();
    }
}
