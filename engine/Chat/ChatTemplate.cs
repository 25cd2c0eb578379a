using System.Text.Json;
using DistillSpec.Chat.Jinja;
using DistillSpec.Tokenization;

namespace DistillSpec.Chat;

/// <summary>
/// A model's chat template (the Jinja <c>chat_template</c> of its tokenizer config) with the special tokens it
/// refers to. <see cref="Render"/> turns a conversation into the prompt text the model was trained on, as Hugging
/// Face's <c>apply_chat_template(..., tokenize=False)</c> does. Immutable; safe to render from several threads.
/// </summary>
/// <example>
/// <code>
/// ChatTemplate template = ChatTemplate.FromModelDirectory("weights/target")
///     ?? throw new InvalidOperationException("the model has no chat template");
/// string prompt = template.Render([ChatMessage.System("Be brief."), ChatMessage.User("Hello!")]);
/// </code>
/// </example>
public sealed class ChatTemplate
{
    /// <summary>Name of the template used when a config lists several and none is asked for.</summary>
    public const string DefaultName = "default";

    /// <summary>Name of the template used instead of <see cref="DefaultName"/> when tools are given and it exists.</summary>
    public const string ToolUseName = "tool_use";

    /// <summary>
    /// A plain role-header template for tokenizers without chat tokens: each turn is <c>role:</c>, a newline, the
    /// trimmed text and <c>eos_token</c>, so a reply ends where generation stops; the generation prompt is
    /// <c>assistant:</c>. DistillSpec's own tokenizers (<c>train-tokenizer</c>, <c>init-random</c>, the shipped
    /// models) are saved with it.
    /// </summary>
    public const string DefaultSource = """
        {%- set end = eos_token if eos_token is defined else '' %}
        {%- for message in messages %}
            {%- if message['content'] is string %}
                {%- set content = message['content'] %}
            {%- elif message['content'] is none %}
                {%- set content = '' %}
            {%- else %}
                {%- set content = message['content'] | map(attribute='text') | join('') %}
            {%- endif %}
            {{- message['role'] + ':\n' + content | trim + end + '\n' }}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- 'assistant:\n' }}
        {%- endif %}
        """;

    private const string TemplateFile = "chat_template.jinja";
    private const string LegacyTemplateFile = "chat_template.json";

    private static readonly string[] s_specialTokenFields = ["bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"];

    private readonly Dictionary<string, JinjaTemplate> _templates;
    private readonly Dictionary<string, string> _sources;
    private readonly string? _origin;

    /// <summary>Parses a template; a syntax error is a <see cref="ChatTemplateException"/> naming line and column.</summary>
    /// <param name="source">The Jinja template text.</param>
    /// <param name="specialTokens">
    /// Variables such as <c>bos_token</c> and <c>eos_token</c> that templates print (Hugging Face passes every
    /// special token of the tokenizer); null or absent ones are left undefined.
    /// </param>
    public ChatTemplate(string source, IReadOnlyDictionary<string, string>? specialTokens = null)
        : this(new Dictionary<string, string> { [DefaultName] = source }, specialTokens, origin: null)
    {
    }

    private ChatTemplate(Dictionary<string, string> sources, IReadOnlyDictionary<string, string>? specialTokens, string? origin)
    {
        _origin = origin;
        _sources = sources;
        SpecialTokens = new Dictionary<string, string>(specialTokens ?? new Dictionary<string, string>());
        _templates = [];
        foreach (var (name, source) in sources)
        {
            ArgumentNullException.ThrowIfNull(source);
            _templates[name] = WithOrigin(() => new JinjaTemplate(source));
        }
    }

    /// <summary>The Jinja text of the template used by default.</summary>
    public string Source => _sources.TryGetValue(DefaultName, out string? s) ? s : _sources.Values.First();

    /// <summary>The names of the templates this model has: just "default" unless its config lists several.</summary>
    public IReadOnlyCollection<string> Names => _sources.Keys;

    /// <summary>The special-token variables passed to every render (<c>bos_token</c>, <c>eos_token</c>...).</summary>
    public IReadOnlyDictionary<string, string> SpecialTokens { get; }

    /// <summary>The <c>bos_token</c> text, or null when the tokenizer config names none.</summary>
    public string? BosToken => SpecialTokens.GetValueOrDefault("bos_token");

    /// <summary>The <c>eos_token</c> text, or null when the tokenizer config names none.</summary>
    public string? EosToken => SpecialTokens.GetValueOrDefault("eos_token");

    /// <summary>
    /// Loads the chat template of a GGUF file (tokenizer.chat_template), or of a Hugging Face model directory: <c>chat_template.jinja</c> when present, else
    /// <c>chat_template</c> in <c>tokenizer_config.json</c> (a string, or a list of <c>{"name", "template"}</c>),
    /// else <c>chat_template.json</c>. Special tokens come from <c>tokenizer_config.json</c> (plain strings or
    /// AddedToken objects with <c>"content"</c>).
    /// </summary>
    /// <returns>The template, or null when the directory has none.</returns>
    /// <exception cref="ChatTemplateException">The directory does not exist, a file is malformed, or the template does not parse.</exception>
    public static ChatTemplate? FromModelDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (Formats.Gguf.GgufModel.IsGgufFile(directory)) return FromGguf(Formats.Gguf.GgufFile.Open(directory));
        if (!Directory.Exists(directory)) throw new ChatTemplateException($"model directory '{directory}' does not exist");
        string configPath = Path.Combine(directory, HfConfigFiles.TokenizerConfig);
        using JsonDocument? config = ReadJson(configPath);
        var specialTokens = new Dictionary<string, string>();
        if (config?.RootElement.ValueKind == JsonValueKind.Object)
        {
            foreach (string name in s_specialTokenFields)
                if (HfConfigFiles.TokenName(config.RootElement, name) is string token) specialTokens[name] = token;
        }

        string templatePath = Path.Combine(directory, TemplateFile);
        if (File.Exists(templatePath))
            return new ChatTemplate(new() { [DefaultName] = File.ReadAllText(templatePath) }, specialTokens, templatePath);
        if (config is not null && config.RootElement.ValueKind == JsonValueKind.Object
            && config.RootElement.TryGetProperty("chat_template", out JsonElement field)
            && field.ValueKind != JsonValueKind.Null)
            return new ChatTemplate(ReadTemplateField(field, configPath), specialTokens, configPath);

        string legacyPath = Path.Combine(directory, LegacyTemplateFile);
        using JsonDocument? legacy = ReadJson(legacyPath);
        if (legacy is not null && legacy.RootElement.ValueKind == JsonValueKind.Object
            && legacy.RootElement.TryGetProperty("chat_template", out JsonElement legacyField))
            return new ChatTemplate(ReadTemplateField(legacyField, legacyPath), specialTokens, legacyPath);
        return null;
    }

    // GGUF keeps the template in tokenizer.chat_template and names special tokens by id.
    private static ChatTemplate? FromGguf(Formats.Gguf.GgufFile file)
    {
        if (!file.TryGet("tokenizer.chat_template", out _)) return null;
        string source = file.Get<string>("tokenizer.chat_template");
        string[] tokens = file.Optional<string[]>("tokenizer.ggml.tokens") ?? [];
        var specialTokens = new Dictionary<string, string>();
        foreach (var (name, key) in new[] { ("bos_token", "tokenizer.ggml.bos_token_id"), ("eos_token", "tokenizer.ggml.eos_token_id") })
            if (file.OptionalInt(key) is int id && id < tokens.Length) specialTokens[name] = tokens[id];
        return new ChatTemplate(new() { [DefaultName] = source }, specialTokens, file.Path);
    }

    /// <summary>
    /// Renders <paramref name="messages"/> into prompt text. The template sees <c>messages</c>,
    /// <c>add_generation_prompt</c>, <c>tools</c>, the <see cref="SpecialTokens"/> and any
    /// <see cref="ChatTemplateOptions.Variables"/>. With tools, a "tool_use" template is preferred when the model has one.
    /// </summary>
    /// <remarks>
    /// The text holds every special token the template prints (often <c>bos_token</c> first), so encode it without
    /// adding another BOS: <c>tokenizer.Encode(prompt, addBos: false)</c>.
    /// </remarks>
    /// <param name="messages">The conversation, oldest first.</param>
    /// <param name="options">Generation prompt, tools and extra variables; null for the defaults.</param>
    /// <exception cref="ChatTemplateException">
    /// The template raised an error (<see cref="ChatTemplateException.RaisedByTemplate"/>, e.g. roles that do not
    /// alternate) or failed on the data given; the message names the line and column in the template.
    /// </exception>
    public string Render(IReadOnlyList<ChatMessage> messages, ChatTemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options ??= new ChatTemplateOptions();
        JinjaTemplate template = Select(options);
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, token) in SpecialTokens) variables[name] = token;
        if (options.Variables is not null)
        {
            foreach (var (name, value) in options.Variables)
            {
                if (name is "messages" or "tools" or "add_generation_prompt")
                    throw new ChatTemplateException($"the variable '{name}' is set from the render arguments and cannot be passed in Variables");
                variables[name] = ValueConverter.From(value, $"variable '{name}'");
            }
        }
        variables["messages"] = messages.Select((m, i) => (object?)MessageValue(m, i)).ToList();
        variables["add_generation_prompt"] = options.AddGenerationPrompt;
        variables["tools"] = options.Tools is null ? null : ValueConverter.From(options.Tools, "tools");
        DateTimeOffset now = options.Now ?? DateTimeOffset.Now;
        return WithOrigin(() => template.Render(variables, now));
    }

    private JinjaTemplate Select(ChatTemplateOptions options)
    {
        if (options.Tools is not null && _templates.TryGetValue(ToolUseName, out JinjaTemplate? toolUse)) return toolUse;
        if (_templates.TryGetValue(DefaultName, out JinjaTemplate? template)) return template;
        if (_templates.Count == 1) return _templates.Values.First();
        throw new ChatTemplateException(
            $"{_origin ?? "the model"} has several chat templates ({string.Join(", ", _templates.Keys)}) and none is named '{DefaultName}'");
    }

    private static Dict MessageValue(ChatMessage m, int index)
    {
        if (m is null) throw new ChatTemplateException($"messages[{index}] is null");
        if (string.IsNullOrEmpty(m.Role)) throw new ChatTemplateException($"messages[{index}] has no role");
        var dict = new Dict { ["role"] = m.Role };
        dict["content"] = m.ContentParts is null
            ? m.Content
            : m.ContentParts.Select(text => (object?)new Dict { ["type"] = "text", ["text"] = text }).ToList();
        if (m.ToolCalls is not null)
            dict["tool_calls"] = m.ToolCalls.Select((c, j) => (object?)ToolCallValue(c, $"messages[{index}].tool_calls[{j}]")).ToList();
        if (m.ToolCallId is not null) dict["tool_call_id"] = m.ToolCallId;
        if (m.Name is not null) dict["name"] = m.Name;
        if (m.AdditionalProperties is not null)
            foreach (var (key, value) in m.AdditionalProperties) dict[key] = ValueConverter.From(value, $"messages[{index}].{key}");
        return dict;
    }

    private static Dict ToolCallValue(ChatToolCall call, string what)
    {
        if (call is null) throw new ChatTemplateException($"{what} is null");
        var dict = new Dict();
        if (call.Id is not null) dict["id"] = call.Id;
        dict["type"] = "function";
        dict["function"] = new Dict { ["name"] = call.Name, ["arguments"] = ValueConverter.From(call.Arguments, $"{what}.arguments") };
        return dict;
    }

    /// <summary>The <c>chat_template</c> field: a string, or a list of <c>{"name": ..., "template": ...}</c>.</summary>
    private static Dictionary<string, string> ReadTemplateField(JsonElement field, string path)
    {
        if (field.ValueKind == JsonValueKind.String) return new() { [DefaultName] = field.GetString()! };
        if (field.ValueKind != JsonValueKind.Array)
            throw new ChatTemplateException($"{path}: \"chat_template\" must be a string or a list of {{\"name\", \"template\"}} objects, not {field.ValueKind}");
        var templates = new Dictionary<string, string>();
        int i = 0;
        foreach (JsonElement entry in field.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object
                || !entry.TryGetProperty("name", out JsonElement name) || name.ValueKind != JsonValueKind.String
                || !entry.TryGetProperty("template", out JsonElement text) || text.ValueKind != JsonValueKind.String)
                throw new ChatTemplateException($"{path}: \"chat_template\"[{i}] must be an object with string fields \"name\" and \"template\"");
            templates[name.GetString()!] = text.GetString()!;
            i++;
        }
        if (templates.Count == 0) throw new ChatTemplateException($"{path}: \"chat_template\" is an empty list");
        return templates;
    }

    private static JsonDocument? ReadJson(string path)
    {
        try
        {
            return HfConfigFiles.TryParse(path);
        }
        catch (Models.ModelFormatException e)
        {
            // The message already names the file and where the JSON went wrong.
            throw new ChatTemplateException(e.Message, e);
        }
    }

    private T WithOrigin<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (ChatTemplateException e) when (_origin is not null)
        {
            throw e.From(_origin);
        }
    }
}
