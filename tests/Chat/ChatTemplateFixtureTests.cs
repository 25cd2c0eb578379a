using System.Text.Json;
using DistillSpec.Chat;

namespace DistillSpec.Tests.Chat;

/// <summary>
/// Our renderer against the reference (@huggingface/jinja) on real chat templates: every case in
/// Chat/Fixtures/*/cases.json must render to exactly the reference's text, or fail where the reference failed.
/// Where the fixture also records a "python" result (Python's jinja2, which transformers uses, disagrees with the
/// reference; Fixtures/README.md lists why), ours must match that one instead.
/// </summary>
public sealed class ChatTemplateFixtureTests
{
    private static readonly string s_root = Path.Combine(AppContext.BaseDirectory, "Chat", "Fixtures");

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string dir in Directory.GetDirectories(s_root).Order(StringComparer.Ordinal))
            foreach (JsonElement c in ReadCases(Path.GetFileName(dir)))
                data.Add(Path.GetFileName(dir), c.GetProperty("name").GetString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_like_the_reference(string model, string caseName)
    {
        ChatTemplate template = ChatTemplate.FromModelDirectory(Path.Combine(s_root, model))
            ?? throw new InvalidOperationException($"fixture {model} has no chat template");
        JsonElement c = ReadCases(model).Single(x => x.GetProperty("name").GetString() == caseName);
        var messages = c.GetProperty("messages").EnumerateArray().Select(ToMessage).ToList();
        var options = new ChatTemplateOptions
        {
            AddGenerationPrompt = c.GetProperty("add_generation_prompt").GetBoolean(),
            Tools = c.TryGetProperty("tools", out JsonElement tools) ? tools.EnumerateArray().Select(t => (object)t).ToList() : null,
            Variables = c.TryGetProperty("variables", out JsonElement vars)
                ? vars.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value)
                : null,
        };

        JsonElement truth = c.TryGetProperty("python", out JsonElement python) ? python : c;
        if (truth.TryGetProperty("error", out JsonElement error))
        {
            var ex = Assert.Throws<ChatTemplateException>(() => template.Render(messages, options));
            // Where the reference's message is the template's own raise_exception text, ours must be the same.
            if (template.Source.Contains(error.GetString()!, StringComparison.Ordinal))
            {
                Assert.True(ex.RaisedByTemplate, ex.Message);
                Assert.Equal(error.GetString(), ex.Reason);
            }
        }
        else
        {
            Assert.Equal(truth.GetProperty("expected").GetString(), template.Render(messages, options));
        }
    }

    [Fact]
    public void Every_model_named_in_the_issue_has_fixtures()
    {
        string[] folders = Directory.GetDirectories(s_root).Select(Path.GetFileName).ToArray()!;
        foreach (string family in new[] { "llama3", "llama-3.1", "qwen2.5", "qwen3", "gemma3", "mistral", "smollm2", "phi-3", "deepseek-v3" })
            Assert.Contains(folders, f => f.StartsWith(family, StringComparison.Ordinal));
        Assert.True(Cases().Count >= 100, $"only {Cases().Count} fixture cases");
    }

    [Fact]
    public void Cases_that_follow_python_instead_of_the_reference_are_rare_and_listed()
    {
        string readme = File.ReadAllText(Path.Combine(s_root, "README.md"));
        var followed = Directory.GetDirectories(s_root)
            .SelectMany(dir => ReadCases(Path.GetFileName(dir))
                .Where(c => c.TryGetProperty("python", out _))
                .Select(c => $"`{Path.GetFileName(dir)}` / `{c.GetProperty("name").GetString()}`"))
            .ToList();
        Assert.True(followed.Count <= 3, string.Join(", ", followed));
        Assert.All(followed, f => Assert.Contains(f, readme, StringComparison.Ordinal));
    }

    private static IEnumerable<JsonElement> ReadCases(string model)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(s_root, model, "cases.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    /// <summary>A fixture message (Hugging Face's dictionary) as our typed message.</summary>
    private static ChatMessage ToMessage(JsonElement m)
    {
        JsonElement content = m.GetProperty("content");
        var extra = new Dictionary<string, object?>();
        foreach (JsonProperty p in m.EnumerateObject())
            if (p.Name is not ("role" or "content" or "tool_calls" or "tool_call_id" or "name")) extra[p.Name] = p.Value;
        return new ChatMessage(m.GetProperty("role").GetString()!, content.ValueKind == JsonValueKind.String ? content.GetString() : null)
        {
            ContentParts = content.ValueKind == JsonValueKind.Array
                ? content.EnumerateArray().Select(part => part.GetProperty("text").GetString()!).ToList()
                : null,
            ToolCalls = m.TryGetProperty("tool_calls", out JsonElement calls)
                ? calls.EnumerateArray().Select(call =>
                {
                    JsonElement function = call.GetProperty("function");
                    return new ChatToolCall(function.GetProperty("name").GetString()!, function.GetProperty("arguments"))
                    {
                        Id = call.TryGetProperty("id", out JsonElement id) ? id.GetString() : null,
                    };
                }).ToList()
                : null,
            ToolCallId = m.TryGetProperty("tool_call_id", out JsonElement callId) ? callId.GetString() : null,
            Name = m.TryGetProperty("name", out JsonElement name) ? name.GetString() : null,
            AdditionalProperties = extra.Count > 0 ? extra : null,
        };
    }
}
