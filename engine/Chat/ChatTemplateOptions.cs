namespace DistillSpec.Chat;

/// <summary>What a render adds to the messages: the generation prompt, tools and template-specific variables.</summary>
public sealed record ChatTemplateOptions
{
    /// <summary>
    /// End the prompt with the header of a new assistant turn, ready for the model to continue
    /// (<c>add_generation_prompt</c>). True by default, since a chat prompt is usually rendered to generate a reply;
    /// set false to render a finished conversation, e.g. for training data.
    /// </summary>
    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>
    /// Tool definitions (<c>tools</c>), each usually a JSON schema object in OpenAI's shape
    /// <c>{"type": "function", "function": {"name", "description", "parameters"}}</c>, given as
    /// System.Text.Json nodes or dictionaries. Null renders <c>tools</c> as None.
    /// </summary>
    public IReadOnlyList<object>? Tools { get; init; }

    /// <summary>
    /// More template variables, e.g. <c>enable_thinking</c> (Qwen3) or <c>date_string</c> (Llama 3.1). They may
    /// override the special tokens but not <c>messages</c>, <c>tools</c> or <c>add_generation_prompt</c>.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? Variables { get; init; }

    /// <summary>The time <c>strftime_now(...)</c> reports; the current local time when null.</summary>
    public DateTimeOffset? Now { get; init; }
}
