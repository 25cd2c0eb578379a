using System.Text.Json;
using Turn = DistillSpec.Chat.ChatMessage;

namespace DistillSpec.Cli.Serve;

/// <summary>What a request to /v1/chat/completions or /v1/completions asks for, checked against the served model.</summary>
internal sealed record CompletionRequest
{
    public required bool Chat { get; init; }

    public required int[] Prompt { get; init; }

    public required GenerationOptions Options { get; init; }

    public bool Stream { get; init; }

    /// <summary>stream_options.include_usage: a last chunk with usage and no choices.</summary>
    public bool StreamUsage { get; init; }

    private static readonly HashSet<string> Sampling =
        ["model", "max_tokens", "temperature", "top_p", "top_k", "stop", "seed", "n", "stream", "stream_options",
         "user", "store", "metadata", "logprobs", "presence_penalty", "frequency_penalty", "ignore_eos"];

    private static readonly HashSet<string> ChatFields = [.. Sampling, "messages", "max_completion_tokens", "top_logprobs", "tools", "tool_choice", "parallel_tool_calls", "response_format"];

    private static readonly HashSet<string> TextFields = [.. Sampling, "prompt", "echo", "suffix", "best_of"];

    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool"];

    /// <param name="contextSize">Positions a request may use: prompt plus max_tokens.</param>
    public static CompletionRequest Parse(JsonElement body, bool chat, LocalModel model, int contextSize)
    {
        var json = JsonFields.Of(body, "");
        json.RejectUnknown(chat ? ChatFields : TextFields);
        RejectUnsupported(json, chat);
        json.String("model");
        json.String("user");

        int[] prompt = chat ? ChatPrompt(json, model) : TextPrompt(json, model);
        if (prompt.Length >= contextSize)
            throw ApiError.ContextLength(
                $"the prompt is {prompt.Length} tokens, but the context holds {contextSize} (prompt plus completion); shorten the prompt",
                chat ? "messages" : "prompt");

        string tokensField = chat && json.Has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        long? maxTokens = json.Integer(tokensField, 1, int.MaxValue);
        if (maxTokens is long n && prompt.Length + n > contextSize)
            throw ApiError.ContextLength(
                $"{tokensField} = {n} plus the prompt's {prompt.Length} tokens exceed the context of {contextSize}; at most {contextSize - prompt.Length} can be generated",
                tokensField);
        // OpenAI's defaults: 16 for text completions, the rest of the context for chat.
        int tokens = (int)(maxTokens ?? Math.Min(chat ? int.MaxValue : 16, contextSize - prompt.Length));

        if (json.Integer("n", 1, 128) is long choices && choices != 1)
            throw ApiError.BadRequest("only n = 1 is supported", "n", "invalid_value");
        var streamOptions = json.Get("stream_options") is { } so ? JsonFields.Of(so, "stream_options") : (JsonFields?)null;
        bool stream = json.Bool("stream") ?? false;
        if (streamOptions is not null && !stream) throw ApiError.BadRequest("'stream_options' is only allowed with 'stream': true", "stream_options");

        return new CompletionRequest
        {
            Chat = chat,
            Prompt = prompt,
            Stream = stream,
            StreamUsage = streamOptions?.Bool("include_usage") ?? false,
            Options = new GenerationOptions
            {
                MaxTokens = tokens,
                Temperature = (float)(json.Number("temperature", 0, 2) ?? 1),
                TopP = (float)(json.Number("top_p", 0, 1, minExclusive: true) ?? 1),
                TopK = (int)(json.Integer("top_k", 0, int.MaxValue) ?? 0),
                Seed = json.Integer("seed", long.MinValue, long.MaxValue) is long seed ? unchecked((int)seed) : null,
                StopStrings = Stops(json),
                // llama-server's extension: generate max_tokens even past end-of-sequence.
                IgnoreEndOfSequence = json.Bool("ignore_eos") ?? false,
            },
        };
    }

    // Known OpenAI fields this server does not implement: accepted only at their neutral values.
    private static void RejectUnsupported(JsonFields json, bool chat)
    {
        if (json.Get("logprobs") is { } logprobs && logprobs.ValueKind is not JsonValueKind.False)
            throw ApiError.BadRequest("'logprobs' is not supported", "logprobs", "unsupported_parameter");
        foreach (string penalty in new[] { "presence_penalty", "frequency_penalty" })
            if (json.Number(penalty, -2, 2) is double p && p != 0)
                throw ApiError.BadRequest($"'{penalty}' is not supported (only 0)", penalty, "unsupported_parameter");
        json.Bool("store");
        if (json.Get("metadata") is { ValueKind: not JsonValueKind.Object }) throw ApiError.WrongType("metadata", "an object");
        if (chat)
        {
            if (json.Array("tools") is { Length: > 0 }) throw ApiError.BadRequest("tool calling is not supported", "tools", "unsupported_parameter");
            if (json.Get("tool_choice") is { } choice && !(choice.ValueKind == JsonValueKind.String && choice.GetString() is "none" or "auto"))
                throw ApiError.BadRequest("'tool_choice' must be \"none\" or \"auto\": tool calling is not supported", "tool_choice", "unsupported_parameter");
            json.Bool("parallel_tool_calls");
            json.Integer("top_logprobs", 0, 20);
            if (json.Get("response_format") is { } format && JsonFields.Of(format, "response_format").String("type") is not (null or "text"))
                throw ApiError.BadRequest("only the \"text\" response format is supported", "response_format.type", "unsupported_parameter");
        }
        else
        {
            if (json.Bool("echo") == true) throw ApiError.BadRequest("'echo' is not supported", "echo", "unsupported_parameter");
            if (json.String("suffix") is { Length: > 0 }) throw ApiError.BadRequest("'suffix' is not supported", "suffix", "unsupported_parameter");
            if (json.Integer("best_of", 1, 128) is long best && best != 1) throw ApiError.BadRequest("only best_of = 1 is supported", "best_of", "invalid_value");
        }
    }

    private static string[] Stops(JsonFields json)
    {
        var stop = json.Get("stop");
        if (stop is null) return [];
        if (stop.Value.ValueKind == JsonValueKind.String) return Checked([stop.Value.GetString()!]);
        if (stop.Value.ValueKind != JsonValueKind.Array) throw ApiError.WrongType("stop", "a string or an array of strings");
        var items = stop.Value.EnumerateArray().ToArray();
        if (items.Length > 4) throw ApiError.BadRequest("'stop' holds at most 4 strings", "stop", "invalid_value");
        return Checked([.. items.Select((s, i) => s.ValueKind == JsonValueKind.String ? s.GetString()! : throw ApiError.WrongType($"stop[{i}]", "a string"))]);

        static string[] Checked(string[] stops) =>
            stops.Any(s => s.Length == 0) ? throw ApiError.BadRequest("stop strings must not be empty", "stop", "invalid_value") : stops;
    }

    private static int[] ChatPrompt(JsonFields json, LocalModel model)
    {
        var messages = json.Array("messages") ?? throw ApiError.BadRequest("'messages' is required", "messages", "missing_required_parameter");
        if (messages.Length == 0) throw ApiError.BadRequest("'messages' must hold at least one message", "messages", "invalid_value");
        var turns = new List<Turn>(messages.Length);
        for (int i = 0; i < messages.Length; i++)
        {
            string name = $"messages[{i}]";
            var message = JsonFields.Of(messages[i], name);
            message.RejectUnknown(new HashSet<string> { "role", "content", "name" });
            string role = message.String("role") ?? throw ApiError.BadRequest($"'{name}.role' is required", $"{name}.role", "missing_required_parameter");
            if (!Roles.Contains(role))
                throw ApiError.BadRequest($"'{name}.role' must be one of {string.Join(", ", Roles)}, got '{role}'", $"{name}.role", "invalid_value");
            turns.Add(new Turn(role == "developer" ? "system" : role, Content(message, name)) { Name = message.String("name") });
        }
        if (model.ChatTemplate is null)
            throw ApiError.BadRequest($"the served model '{model.Path}' has no chat template; use /v1/completions", "messages", "no_chat_template");
        try
        {
            return model.EncodeChat(turns);
        }
        catch (Chat.ChatTemplateException e)
        {
            throw ApiError.BadRequest($"the model's chat template rejected the messages: {e.Message}", "messages", "invalid_value");
        }
    }

    // A string, or OpenAI's list of parts of which this text-only server reads {"type": "text", "text": ...}.
    private static string Content(JsonFields message, string name)
    {
        var content = message.Get("content");
        if (content is null) return "";
        if (content.Value.ValueKind == JsonValueKind.String) return content.Value.GetString()!;
        if (content.Value.ValueKind != JsonValueKind.Array) throw ApiError.WrongType($"{name}.content", "a string or an array of text parts");
        var text = new System.Text.StringBuilder();
        int i = 0;
        foreach (var item in content.Value.EnumerateArray())
        {
            var part = JsonFields.Of(item, $"{name}.content[{i++}]");
            if (part.String("type") != "text")
                throw ApiError.BadRequest($"'{part.Name("type")}' must be \"text\": this server reads text only", part.Name("type"), "unsupported_parameter");
            text.Append(part.String("text") ?? throw ApiError.BadRequest($"'{part.Name("text")}' is required", part.Name("text"), "missing_required_parameter"));
        }
        return text.ToString();
    }

    // A string, a list holding one string, or a list of token ids (as OpenAI accepts).
    private static int[] TextPrompt(JsonFields json, LocalModel model)
    {
        var prompt = json.Get("prompt") ?? throw ApiError.BadRequest("'prompt' is required", "prompt", "missing_required_parameter");
        if (prompt.ValueKind == JsonValueKind.String) return Encoded(prompt.GetString()!);
        if (prompt.ValueKind != JsonValueKind.Array) throw ApiError.WrongType("prompt", "a string, an array of one string, or an array of token ids");
        var items = prompt.EnumerateArray().ToArray();
        if (items.Length == 1 && items[0].ValueKind == JsonValueKind.String) return Encoded(items[0].GetString()!);
        if (items.Length == 0) throw ApiError.BadRequest("'prompt' must not be empty", "prompt", "invalid_value");
        var ids = new int[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i].ValueKind != JsonValueKind.Number || !items[i].TryGetInt32(out ids[i]))
                throw ApiError.WrongType($"prompt[{i}]", "a token id (only one prompt per request)");
            if ((uint)ids[i] >= (uint)model.Config.VocabSize)
                throw ApiError.BadRequest($"'prompt[{i}]' = {ids[i]} is not a token id in [0, {model.Config.VocabSize})", $"prompt[{i}]", "invalid_value");
        }
        return ids;

        int[] Encoded(string text)
        {
            var ids = model.Encode(text);
            return ids.Length > 0 ? ids : throw ApiError.BadRequest("'prompt' encodes to no tokens", "prompt", "invalid_value");
        }
    }
}
