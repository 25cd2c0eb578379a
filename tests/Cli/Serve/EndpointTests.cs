using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace DistillSpec.Tests.Cli.Serve;

/// <summary>The wire format of dspec serve as raw HTTP shows it: events, extensions, models, health and metrics.</summary>
[Collection(ServerCollection.Name)]
public sealed class EndpointTests(ServerFixture server)
{
    [Fact]
    public async Task Stream_is_server_sent_events_ending_in_done_with_origins_and_timings()
    {
        using var content = new StringContent(ServerFixture.ChatBody("Write a sort function.", 16, stream: true), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        using var response = await server.Http.PostAsync(new Uri(server.Address, "v1/chat/completions"), content);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e[6..]).RootElement).ToList();
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());

        var origins = chunks.SelectMany(c => c.GetProperty("token_origins").EnumerateArray().Select(o => o.GetString())).ToList();
        // "target": a round with no room left to draft (the last token before max_tokens) is the target's alone.
        Assert.Subset(new HashSet<string?> { "accepted_draft", "correction", "bonus", "target" }, origins.ToHashSet());
        Assert.Contains("accepted_draft", origins);
        var last = chunks[^1];
        Assert.NotEqual(JsonValueKind.Null, last.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
        var timings = last.GetProperty("timings");
        Assert.Equal(origins.Count, timings.GetProperty("predicted_n").GetInt32());
        Assert.Equal(origins.Count(o => o == "accepted_draft"), timings.GetProperty("draft_n_accepted").GetInt32());
        Assert.Equal(origins.Count(o => o is "correction" or "bonus" or "target"), timings.GetProperty("target_calls").GetInt32());
        Assert.Equal(4, timings.GetProperty("acceptance_by_position").GetArrayLength());

        string text = string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()));
        Assert.Equal(await server.ExpectedReply("Write a sort function.", 16), text);
    }

    [Fact]
    public async Task Text_completion_honours_stop_strings_and_reports_speculative_timings()
    {
        var (status, json) = await server.Post("v1/completions", """{"prompt": "def read_config(path):", "max_tokens": 24, "temperature": 0}""");
        Assert.Equal(200, status);
        string full = json.GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.Equal("text_completion", json.GetProperty("object").GetString());
        var timings = json.GetProperty("timings");
        Assert.True(timings.GetProperty("draft_n").GetInt32() >= timings.GetProperty("draft_n_accepted").GetInt32());
        Assert.Equal(json.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), timings.GetProperty("predicted_n").GetInt32());

        // Stop at the second word of the unconstrained reply: the text ends just before it.
        string stop = full.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).First();
        var (_, stopped) = await server.Post("v1/completions", JsonSerializer.Serialize(new { prompt = "def read_config(path):", max_tokens = 24, temperature = 0, stop }));
        Assert.Equal("stop", stopped.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], stopped.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Models_and_health_describe_the_served_pair()
    {
        using var models = JsonDocument.Parse(await server.Http.GetStringAsync(new Uri(server.Address, "v1/models")));
        var model = models.RootElement.GetProperty("data")[0];
        Assert.Equal("target", model.GetProperty("id").GetString());
        Assert.Equal(server.Slot.Target.ContextLength, model.GetProperty("meta").GetProperty("n_ctx").GetInt32());
        Assert.EndsWith("draft-code-tvd", model.GetProperty("meta").GetProperty("draft").GetString());

        using var health = JsonDocument.Parse(await server.Http.GetStringAsync(new Uri(server.Address, "health")));
        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        Assert.True(health.RootElement.GetProperty("speculative").GetBoolean());
    }

    [Fact]
    public async Task Metrics_are_prometheus_text_that_count_a_completed_request()
    {
        double before = Sample(await Metrics(), "dspec_generated_tokens_total");
        var (_, json) = await server.Post("v1/chat/completions", ServerFixture.ChatBody("Write a loop.", 8));
        string text = await Metrics();

        Assert.Equal(before + json.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), Sample(text, "dspec_generated_tokens_total"));
        foreach (string name in new[] { "dspec_queue_depth", "dspec_generated_tokens_per_second", "dspec_spec_acceptance_rate",
                     "dspec_spec_mean_accepted_length", "dspec_spec_acceptance_by_position{position=\"1\"}", "dspec_requests_total{outcome=\"completed\"}" })
            Assert.False(double.IsNaN(Sample(text, name)), name);
        Assert.Contains("# TYPE dspec_requests_total counter", text);
        Assert.InRange(Sample(text, "dspec_spec_acceptance_rate"), 0, 1);
    }

    private async Task<string> Metrics()
    {
        using var response = await server.Http.GetAsync(new Uri(server.Address, "metrics"));
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    private static double Sample(string metrics, string name)
    {
        var line = metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
