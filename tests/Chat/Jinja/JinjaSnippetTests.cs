using System.Text.Json;
using DistillSpec.Chat;
using DistillSpec.Chat.Jinja;

namespace DistillSpec.Tests.Chat.Jinja;

/// <summary>
/// One Jinja feature per snippet (Chat/Fixtures/jinja-snippets.json, from tools/chat-templates/snippets.mjs),
/// rendered by @huggingface/jinja and by Python's jinja2 as transformers sets it up. Ours must match jinja2's
/// result where the fixture records one (the two references disagree there), else the reference's.
/// </summary>
public sealed class JinjaSnippetTests
{
    private static readonly string s_path = Path.Combine(AppContext.BaseDirectory, "Chat", "Fixtures", "jinja-snippets.json");

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (JsonElement s in Read()) data.Add(s.GetProperty("name").GetString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Renders_like_jinja2(string name)
    {
        JsonElement snippet = Read().Single(s => s.GetProperty("name").GetString() == name);
        JsonElement truth = snippet.TryGetProperty("python", out JsonElement python) ? python : snippet;
        var variables = new Dictionary<string, object?>();
        if (snippet.TryGetProperty("variables", out JsonElement vars))
            foreach (JsonProperty p in vars.EnumerateObject()) variables[p.Name] = ValueConverter.FromJson(p.Value);
        string source = snippet.GetProperty("template").GetString()!;

        if (truth.TryGetProperty("error", out JsonElement error))
        {
            var ex = Assert.Throws<ChatTemplateException>(() => new JinjaTemplate(source).Render(variables, DateTimeOffset.UnixEpoch));
            Assert.True(ex.Line > 0, ex.Message);
            if (source.Contains("raise_exception", StringComparison.Ordinal)) Assert.Equal(error.GetString(), ex.Reason);
        }
        else
        {
            Assert.Equal(truth.GetProperty("expected").GetString(), new JinjaTemplate(source).Render(variables, DateTimeOffset.UnixEpoch));
        }
    }

    private static List<JsonElement> Read()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(s_path));
        return doc.RootElement.GetProperty("snippets").EnumerateArray().Select(e => e.Clone()).ToList();
    }
}
