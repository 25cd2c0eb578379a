namespace DistillSpec.Chat;

/// <summary>
/// One turn of a conversation as chat templates see it: Hugging Face's message dictionary
/// (<c>{"role": ..., "content": ...}</c>, plus <c>tool_calls</c>, <c>tool_call_id</c> and <c>name</c> when set).
/// </summary>
/// <param name="Role">"system", "user", "assistant" or "tool" (templates may accept others).</param>
/// <param name="Content">The text; null renders as None (an assistant turn that only calls tools).</param>
public sealed record ChatMessage(string Role, string? Content)
{
    /// <summary>
    /// When set, <c>content</c> is a list of text parts, <c>[{"type": "text", "text": ...}]</c>, the multimodal
    /// form some templates (Gemma 3) read; <see cref="Content"/> is then ignored.
    /// </summary>
    public IReadOnlyList<string>? ContentParts { get; init; }

    /// <summary>Tool calls made by an assistant turn, rendered as <c>tool_calls</c>; absent from the message when null.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>For a "tool" turn: the id of the call it answers (<c>tool_call_id</c>).</summary>
    public string? ToolCallId { get; init; }

    /// <summary>The <c>name</c> field, e.g. the tool that produced a "tool" turn.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// More fields some templates read, e.g. <c>reasoning_content</c> for Qwen3. Values may be strings, numbers,
    /// booleans, lists, dictionaries or System.Text.Json nodes.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? AdditionalProperties { get; init; }

    /// <summary>A system turn.</summary>
    public static ChatMessage System(string content) => new("system", content);

    /// <summary>A user turn.</summary>
    public static ChatMessage User(string content) => new("user", content);

    /// <summary>An assistant turn.</summary>
    public static ChatMessage Assistant(string? content) => new("assistant", content);

    /// <summary>A tool result answering the call <paramref name="toolCallId"/>.</summary>
    public static ChatMessage Tool(string content, string? toolCallId = null) => new("tool", content) { ToolCallId = toolCallId };
}

/// <summary>
/// A function call made by the assistant, rendered in OpenAI's shape that chat templates expect:
/// <c>{"id": ..., "type": "function", "function": {"name": ..., "arguments": ...}}</c>.
/// </summary>
/// <param name="Name">The function name.</param>
/// <param name="Arguments">
/// The arguments: a dictionary or JSON object (what most templates expect and serialise with <c>tojson</c>), or a
/// string holding JSON text (what DeepSeek's template concatenates as is).
/// </param>
public sealed record ChatToolCall(string Name, object? Arguments)
{
    /// <summary>The call id (<c>id</c>); omitted when null. Mistral templates require 9 alphanumeric characters.</summary>
    public string? Id { get; init; }
}
