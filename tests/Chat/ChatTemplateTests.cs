using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSpec.Chat;

namespace DistillSpec.Tests.Chat;

public sealed class ChatTemplateTests
{
    private const string Echo = "{{ bos_token }}{% for m in messages %}{{ m.role }}={{ m.content }};{% endfor %}{{ eos_token }}";

    [Fact]
    public void A_directory_without_a_template_gives_null()
    {
        using var dir = new TempDirectory();
        dir.Write("tokenizer_config.json", """{"bos_token": "<s>"}""");
        Assert.Null(ChatTemplate.FromModelDirectory(dir.Path));
    }

    [Fact]
    public void A_missing_directory_is_an_error_naming_it()
    {
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromModelDirectory("/no/such/model"));
        Assert.Contains("/no/such/model", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Special_tokens_may_be_strings_or_added_token_objects()
    {
        using var dir = new TempDirectory();
        dir.Write("tokenizer_config.json", JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["bos_token"] = new { __type = "AddedToken", content = "<B>", lstrip = false },
            ["eos_token"] = "<E>",
            ["chat_template"] = Echo,
        }));
        ChatTemplate template = ChatTemplate.FromModelDirectory(dir.Path)!;
        Assert.Equal("<B>", template.BosToken);
        Assert.Equal("<E>", template.EosToken);
        Assert.Equal("<B>user=hi;<E>", template.Render([ChatMessage.User("hi")]));
    }

    [Fact]
    public void A_list_of_named_templates_uses_default_and_tool_use_when_tools_are_given()
    {
        using var dir = new TempDirectory();
        dir.Write("tokenizer_config.json", """
            {"chat_template": [{"name": "default", "template": "plain"}, {"name": "tool_use", "template": "tools:{{ tools | length }}"}]}
            """);
        ChatTemplate template = ChatTemplate.FromModelDirectory(dir.Path)!;
        Assert.Equal(["default", "tool_use"], template.Names);
        Assert.Equal("plain", template.Render([ChatMessage.User("x")]));
        var tool = JsonNode.Parse("""{"type": "function", "function": {"name": "f"}}""")!;
        Assert.Equal("tools:1", template.Render([ChatMessage.User("x")], new ChatTemplateOptions { Tools = [tool] }));
    }

    [Fact]
    public void Several_templates_without_a_default_is_an_error_listing_them()
    {
        using var dir = new TempDirectory();
        dir.Write("tokenizer_config.json", """{"chat_template": [{"name": "a", "template": "A"}, {"name": "b", "template": "B"}]}""");
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromModelDirectory(dir.Path)!.Render([ChatMessage.User("x")]));
        Assert.Contains("a, b", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Chat_template_jinja_takes_precedence_over_the_config_field()
    {
        using var dir = new TempDirectory();
        dir.Write("tokenizer_config.json", """{"chat_template": "from config", "eos_token": "</s>"}""");
        dir.Write("chat_template.jinja", "from file{{ eos_token }}\n");
        Assert.Equal("from file</s>", ChatTemplate.FromModelDirectory(dir.Path)!.Render([]));
    }

    [Fact]
    public void Malformed_config_and_field_are_errors_naming_the_file()
    {
        using var dir = new TempDirectory();
        dir.Write("tokenizer_config.json", "{ not json");
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromModelDirectory(dir.Path));
        Assert.Contains("tokenizer_config.json", ex.Message, StringComparison.Ordinal);

        dir.Write("tokenizer_config.json", """{"chat_template": 42}""");
        ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromModelDirectory(dir.Path));
        Assert.Contains("\"chat_template\" must be a string", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_syntax_error_names_the_file_line_and_column()
    {
        using var dir = new TempDirectory();
        dir.Write("chat_template.jinja", "line one\n{% for m in messages %}\n  {{ m.content | }}\n{% endfor %}");
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromModelDirectory(dir.Path));
        Assert.Equal(3, ex.Line);
        Assert.Equal(18, ex.Column);
        Assert.Contains("chat_template.jinja", ex.Message, StringComparison.Ordinal);
        Assert.Contains("line 3, column 18", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{% if true %}never closed", "the template ended while looking for 'elif' or 'else' or 'endif'")]
    [InlineData("{{ 'x' | no_such_filter }}", "unknown filter 'no_such_filter'")]
    [InlineData("{{ x is no_such_test }}", "unknown test 'no_such_test'")]
    [InlineData("{% while true %}{% endwhile %}", "unknown statement 'while'")]
    [InlineData("{{ missing.attribute }}", "'missing' is undefined")]
    [InlineData("{{ 1 + 'a' }}", "unsupported operand type(s) for +: 'int' and 'str'")]
    [InlineData("{{ messages[0].content.nope() }}", "'str object' has no attribute 'nope'")]
    [InlineData("{{ 'unterminated }}", "the string is never closed")]
    [InlineData("{% set x.y = 1 %}", "only a namespace() accepts attribute assignment")]
    [InlineData("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "nests deeper than 100 calls")]
    [InlineData("{{ range(10000000) | length }}", "more than the 1000000 a template may make")]
    public void Unsupported_or_wrong_templates_are_clear_errors(string source, string reason)
    {
        var ex = Assert.Throws<ChatTemplateException>(() => new ChatTemplate(source).Render([ChatMessage.User("hi")]));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Line >= 1 && ex.Column >= 1, ex.Message);
    }

    [Fact]
    public void Hugging_face_s_generation_marker_renders_its_body()
    {
        var template = new ChatTemplate("{% for m in messages %}{{ m.role }}: {% generation %}{{ m.content }}{% endgeneration %}{{ '\\n' }}{% endfor %}");
        Assert.Equal("user: hi\nassistant: hello\n", template.Render([ChatMessage.User("hi"), ChatMessage.Assistant("hello")]));
    }

    [Fact]
    public void Absurdly_deep_nesting_is_an_error_not_a_crash()
    {
        const int depth = 50_000;
        string parens = "{{ " + new string('(', depth) + "1" + new string(')', depth) + " }}";
        Assert.Contains("too deeply", Assert.Throws<ChatTemplateException>(() => new ChatTemplate(parens)).Message, StringComparison.Ordinal);
        string blocks = string.Concat(Enumerable.Repeat("{% if true %}", depth)) + string.Concat(Enumerable.Repeat("{% endif %}", depth));
        Assert.Contains("too deeply", Assert.Throws<ChatTemplateException>(() => new ChatTemplate(blocks)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Raise_exception_is_marked_as_the_template_s_own_error()
    {
        var template = new ChatTemplate("{% if messages[0].role != 'user' %}{{ raise_exception('first turn must be a user turn') }}{% endif %}");
        var ex = Assert.Throws<ChatTemplateException>(() => template.Render([ChatMessage.Assistant("hi")]));
        Assert.True(ex.RaisedByTemplate);
        Assert.Equal("first turn must be a user turn", ex.Reason);
        Assert.Equal((1, 39), (ex.Line, ex.Column));
    }

    [Fact]
    public void Messages_carry_tool_calls_ids_names_and_extra_fields_in_hugging_face_s_shape()
    {
        var template = new ChatTemplate("{{ messages | tojson }}");
        var call = new ChatToolCall("get_weather", new Dictionary<string, object?> { ["city"] = "Paris", ["days"] = 2 }) { Id = "c1" };
        string json = template.Render(
        [
            new ChatMessage("assistant", null) { ToolCalls = [call], AdditionalProperties = new Dictionary<string, object?> { ["reasoning_content"] = "why" } },
            ChatMessage.Tool("{\"t\": 21}", "c1") with { Name = "get_weather" },
            new ChatMessage("user", "ignored") { ContentParts = ["a", "b"] },
        ]);
        Assert.Equal(
            """[{"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}], "reasoning_content": "why"}, """
            + """{"role": "tool", "content": "{\"t\": 21}", "tool_call_id": "c1", "name": "get_weather"}, """
            + """{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]""",
            json);
    }

    [Fact]
    public void Options_set_the_generation_prompt_tools_variables_and_clock()
    {
        var template = new ChatTemplate("{{ add_generation_prompt }}|{{ tools }}|{{ flag }}|{{ strftime_now('%d %b %Y %H:%M') }}");
        var options = new ChatTemplateOptions
        {
            AddGenerationPrompt = false,
            Variables = new Dictionary<string, object?> { ["flag"] = new[] { 1, 2 } },
            Now = new DateTimeOffset(2026, 12, 3, 9, 5, 0, TimeSpan.Zero),
        };
        Assert.Equal("False|None|[1, 2]|03 Dec 2026 09:05", template.Render([], options));
        Assert.StartsWith("True|", template.Render([]), StringComparison.Ordinal);

        var clash = options with { Variables = new Dictionary<string, object?> { ["messages"] = "x" } };
        Assert.Throws<ChatTemplateException>(() => template.Render([], clash));
    }

    [Fact]
    public void Rendering_from_several_threads_at_once_gives_the_same_text()
    {
        var template = new ChatTemplate(ChatTemplate.DefaultSource, new Dictionary<string, string> { ["eos_token"] = "</s>" });
        ChatMessage[] messages = [ChatMessage.System("Be brief."), ChatMessage.User("Hello"), ChatMessage.Assistant("Hi."), ChatMessage.User("Bye")];
        string expected = template.Render(messages);
        string[] results = new string[8];
        Parallel.For(0, results.Length, i =>
        {
            for (int k = 0; k < 50; k++) results[i] = template.Render(messages);
        });
        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Fact]
    public void The_shipped_models_render_a_role_header_prompt_ending_each_turn_with_eos()
    {
        string weights = Path.Combine(RepositoryRoot(), "weights");
        foreach (string model in new[] { "target", "draft-code-tvd", "draft-plain", "tokenizer", "random-tiny" })
        {
            ChatTemplate template = ChatTemplate.FromModelDirectory(Path.Combine(weights, model))
                ?? throw new InvalidOperationException($"weights/{model} has no chat template");
            Assert.Equal(ChatTemplate.DefaultSource, template.Source);
            Assert.Equal(
                "system:\nBe brief.<|endoftext|>\nuser:\nHello<|endoftext|>\nassistant:\n",
                template.Render([ChatMessage.System("Be brief."), ChatMessage.User(" Hello ")]));
        }
    }

    [Fact]
    public void The_shipped_prompt_tokenizes_each_turn_end_to_the_eos_id()
    {
        string target = Path.Combine(RepositoryRoot(), "weights", "target");
        string prompt = ChatTemplate.FromModelDirectory(target)!.Render(
            [ChatMessage.System("Be brief."), ChatMessage.User("Hello"), ChatMessage.Assistant("Hi."), ChatMessage.User("Bye")]);
        var tokenizer = DistillSpec.Tokenization.TextTokenizer.Load(target);
        int[] ids = tokenizer.Encode(prompt, addBos: false);
        Assert.Equal(4, ids.Count(id => id == tokenizer.EosIds[0]));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }
}
