using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace DistillSpec.Tests.Cli.Serve;

/// <summary>Bad requests get a 400 with an OpenAI-style error naming the field, and the server keeps serving.</summary>
[Collection(ServerCollection.Name)]
public sealed class ValidationTests(ServerFixture server)
{
    public static TheoryData<string, string, string?, string> BadBodies => new()
    {
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}""", null, "invalid_json" },
        { "v1/chat/completions", """[1, 2]""", null, "invalid_json" },
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "max_tokens": "many"}""", "max_tokens", "invalid_type" },
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "temperature": true}""", "temperature", "invalid_type" },
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "temperature": 3}""", "temperature", "invalid_value" },
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "top_p": 0}""", "top_p", "invalid_value" },
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "stop": [1]}""", "stop[0]", "invalid_type" },
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "n": 2}""", "n", "invalid_value" },
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "frobnicate": 1}""", "frobnicate", "unknown_parameter" },
        { "v1/chat/completions", """{"messages": [{"role": "wizard", "content": "hi"}]}""", "messages[0].role", "invalid_value" },
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": 5}]}""", "messages[0].content", "invalid_type" },
        { "v1/chat/completions", """{"messages": []}""", "messages", "invalid_value" },
        { "v1/chat/completions", """{"max_tokens": 4}""", "messages", "missing_required_parameter" },
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000}""", "max_tokens", "context_length_exceeded" },
        { "v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}""", "max_tokens", "invalid_value" },
        { "v1/completions", """{"prompt": 42}""", "prompt", "invalid_type" },
        { "v1/completions", """{"prompt": [1, 999999]}""", "prompt[1]", "invalid_value" },
        { "v1/completions", """{"prompt": "x", "echo": true}""", "echo", "unsupported_parameter" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_request_gets_a_400_naming_the_field(string path, string body, string? param, string code)
    {
        var (status, json) = await server.Post(path, body);

        Assert.Equal(400, status);
        var error = json.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        await ServerStillServes();
    }

    [Fact]
    public async Task Over_long_prompt_gets_a_400_for_the_context()
    {
        string longText = string.Concat(Enumerable.Repeat("def f(x): return x + 1\n", 400));
        var (status, json) = await server.Post("v1/completions", JsonSerializer.Serialize(new { prompt = longText, max_tokens = 4 }));

        Assert.Equal(400, status);
        Assert.Equal("context_length_exceeded", json.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains($"{server.Slot.Target.ContextLength}", json.GetProperty("error").GetProperty("message").GetString());
        await ServerStillServes();
    }

    [Fact]
    public async Task Body_that_is_not_json_by_content_type_gets_a_400()
    {
        using var content = new StringContent("hello", Encoding.UTF8, new MediaTypeHeaderValue("text/plain"));
        using var response = await server.Http.PostAsync(new Uri(server.Address, "v1/chat/completions"), content);

        Assert.Equal(400, (int)response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("application/json", json.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Unknown_route_gets_a_404_in_the_same_error_shape()
    {
        using var response = await server.Http.GetAsync(new Uri(server.Address, "v1/engines"));

        Assert.Equal(404, (int)response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("not_found", json.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private async Task ServerStillServes()
    {
        var (status, json) = await server.Post("v1/chat/completions", ServerFixture.ChatBody("hello", 2));
        Assert.Equal(200, status);
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
    }
}
