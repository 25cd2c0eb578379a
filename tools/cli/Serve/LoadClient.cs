using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace DistillSpec.Cli.Serve;

/// <summary>One streamed chat completion as a load client saw it.</summary>
internal sealed record LoadResult(int Prompt, string? Id, string Text, int CompletionTokens, TimeSpan FirstToken, TimeSpan Latency,
    int Drafted, int Accepted, string? Error);

/// <summary>
/// Sends streamed chat completions and reads them back as any OpenAI client would: status, events,
/// the closing [DONE], usage. Anything other than a whole, well-formed stream is reported as an error.
/// </summary>
internal sealed class LoadClient(HttpClient http, Uri server, IReadOnlyList<string> prompts, int maxTokens)
{
    public byte[] Body(int prompt, bool stream) => ResponseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("messages");
        w.WriteStartObject();
        w.WriteString("role", "user");
        w.WriteString("content", prompts[prompt]);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteNumber("max_tokens", maxTokens);
        w.WriteNumber("temperature", 0);
        w.WriteBoolean("stream", stream);
        if (stream)
        {
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    });

    public async Task<LoadResult> Stream(int prompt, CancellationToken ct)
    {
        long start = Stopwatch.GetTimestamp();
        TimeSpan firstToken = TimeSpan.Zero;
        string? id = null;
        var text = new StringBuilder();
        int tokens = -1, drafted = 0, accepted = 0;
        bool done = false;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, "v1/chat/completions"))
            {
                Content = new ByteArrayContent(Body(prompt, stream: true)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode)
                return Failed($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                string data = line[6..];
                if (data == "[DONE]")
                {
                    done = true;
                    break;
                }
                if (firstToken == TimeSpan.Zero) firstToken = Stopwatch.GetElapsedTime(start);
                using var chunk = JsonDocument.Parse(data);
                var root = chunk.RootElement;
                if (root.TryGetProperty("error", out var error)) return Failed($"error event: {error.GetRawText()}");
                string chunkId = root.GetProperty("id").GetString()!;
                if (id is not null && id != chunkId) return Failed($"chunks of two completions in one stream: {id} and {chunkId}");
                id = chunkId;
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                    tokens = usage.GetProperty("completion_tokens").GetInt32();
                if (root.TryGetProperty("timings", out var timings) && timings.TryGetProperty("draft_n", out var n))
                {
                    drafted = n.GetInt32();
                    accepted = timings.GetProperty("draft_n_accepted").GetInt32();
                }
                foreach (var choice in root.GetProperty("choices").EnumerateArray())
                    if (choice.GetProperty("delta").TryGetProperty("content", out var content)) text.Append(content.GetString());
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return Failed($"{e.GetType().Name}: {e.Message}");
        }
        if (!done) return Failed("the stream ended without data: [DONE]");
        if (tokens < 0) return Failed("no usage chunk although stream_options.include_usage was set");
        return new LoadResult(prompt, id, text.ToString(), tokens, firstToken, Stopwatch.GetElapsedTime(start), drafted, accepted, null);

        LoadResult Failed(string why) =>
            new(prompt, id, text.ToString(), 0, firstToken, Stopwatch.GetElapsedTime(start), 0, 0, why);
    }

    /// <summary>The greedy reply to each prompt alone, non-streamed: what every streamed reply must equal.</summary>
    public async Task<string[]> References(CancellationToken ct)
    {
        var texts = new string[prompts.Count];
        for (int i = 0; i < prompts.Count; i++)
        {
            using var content = new ByteArrayContent(Body(i, stream: false)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
            using var response = await http.PostAsync(new Uri(server, "v1/chat/completions"), content, ct);
            string body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"reference request for prompt {i} failed: HTTP {(int)response.StatusCode} {body}");
            using var doc = JsonDocument.Parse(body);
            texts[i] = doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        }
        return texts;
    }
}
