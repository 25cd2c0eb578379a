using System.Runtime.CompilerServices;
using DistillSpec.Speculative;
using Microsoft.Extensions.AI;
using Turn = DistillSpec.Chat.ChatMessage;

namespace DistillSpec;

/// <summary>
/// Microsoft.Extensions.AI's IChatClient over a LocalModel, or over a SpeculativePair (then every reply is
/// decoded speculatively and exactly as the target alone would). Usage counts prompt and generated tokens;
/// speculative measures are in AdditionalProperties: "speculative" (the SpeculativeStats), and "alpha",
/// "tau", "cost_ratio", "mbsu" and "speedup" as numbers. Disposing the client leaves the model alone.
/// </summary>
internal sealed class LocalChatClient : IChatClient
{
    private readonly LocalModel _model;
    private readonly SpeculativePair? _pair;
    private readonly SpeculativeOptions? _speculation;
    private readonly ChatClientMetadata _metadata;

    public LocalChatClient(LocalModel model)
    {
        _model = model;
        _metadata = new ChatClientMetadata("DistillSpec", defaultModelId: ModelId(model));
    }

    public LocalChatClient(SpeculativePair pair, SpeculativeOptions? speculation)
        : this(pair.Target)
    {
        _pair = pair;
        _speculation = speculation;
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false)) updates.Add(update);
        var response = updates.ToChatResponse();
        // Coalescing keeps the usage but not the updates' properties: the measures sit on the last one.
        response.AdditionalProperties = updates.LastOrDefault()?.AdditionalProperties;
        return response;
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prompt = _model.EncodeChat(Turns(messages, options));
        var generation = Generation(options);
        var updates = _pair is null
            ? _model.GenerateAsync(prompt, generation, cancellationToken)
            : _pair.GenerateAsync(prompt, generation, _speculation, cancellationToken);
        string responseId = Guid.NewGuid().ToString("N"), modelId = _metadata.DefaultModelId!;
        var created = DateTimeOffset.UtcNow;
        await foreach (var update in updates.ConfigureAwait(false))
        {
            var contents = new List<AIContent>();
            if (update.Text.Length > 0) contents.Add(new TextContent(update.Text));
            var chunk = new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = modelId,
                CreatedAt = created,
                RawRepresentation = update,
            };
            if (update.Stats is { } stats)
            {
                chunk.Contents.Add(new UsageContent(new UsageDetails
                {
                    InputTokenCount = stats.PromptTokens,
                    OutputTokenCount = stats.GeneratedTokens,
                    TotalTokenCount = stats.PromptTokens + stats.GeneratedTokens,
                }));
                chunk.FinishReason = stats.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;
                if (stats.Speculative is { } s) chunk.AdditionalProperties = Measures(s);
            }
            else if (contents.Count == 0) continue;
            yield return chunk;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return _metadata;
        if (_pair is not null && serviceType.IsInstanceOfType(_pair)) return _pair;
        return serviceType.IsInstanceOfType(_model) ? _model : serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose() { }

    /// <summary>The name a model is served and reported under: its directory's name.</summary>
    internal static string ModelId(LocalModel model) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(model.Path)));

    private static AdditionalPropertiesDictionary Measures(SpeculativeStats s) => new()
    {
        ["speculative"] = s,
        ["alpha"] = s.Alpha,
        ["tau"] = s.BlockEfficiency,
        ["cost_ratio"] = s.CostRatio,
        ["mbsu"] = s.MemoryBoundSpeedup,
        ["speedup"] = s.Speedup,
        ["speedup_estimated"] = s.Baseline?.Estimated,
    };

    private static List<Turn> Turns(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var turns = new List<Turn>();
        if (options?.Instructions is { Length: > 0 } instructions) turns.Add(Turn.System(instructions));
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
                if (content is not TextContent and not UsageContent)
                    throw new NotSupportedException($"a {message.Role} message holds {content.GetType().Name}; this client reads text only");
            turns.Add(new Turn(message.Role.Value, message.Text));
        }
        return turns;
    }

    private static GenerationOptions Generation(ChatOptions? options)
    {
        var generation = new GenerationOptions();
        if (options is null) return generation;
        if (options.Tools is { Count: > 0 }) throw new NotSupportedException("tool calling is not supported by this client");
        return generation with
        {
            MaxTokens = options.MaxOutputTokens ?? generation.MaxTokens,
            Temperature = options.Temperature ?? generation.Temperature,
            TopP = options.TopP ?? generation.TopP,
            TopK = options.TopK ?? generation.TopK,
            Seed = options.Seed is long seed ? unchecked((int)seed) : null,
            StopStrings = options.StopSequences is { } stops ? [.. stops] : [],
        };
    }
}
