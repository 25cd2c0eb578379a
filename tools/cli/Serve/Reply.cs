using DistillSpec.Generation;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DistillSpec.Cli.Serve;

/// <summary>The answer to one completion request: its id, and its bodies or events in the request's shape (chat or text).</summary>
internal sealed class Reply(HttpContext http, CompletionRequest request, string model, TimeSpan queued)
{
    private readonly string _id = (request.Chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private bool _roleSent;

    public CompletionRequest Request => request;

    public byte[] Completion(string text, GenerationStats stats) => ResponseJson.Write(w =>
    {
        w.WriteStartObject();
        ResponseJson.Header(w, _id, request.Chat ? "chat.completion" : "text_completion", _created, model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (request.Chat)
        {
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", text);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text);
            w.WriteNull("logprobs");
        }
        w.WriteString("finish_reason", ResponseJson.Finish(stats.FinishReason));
        w.WriteEndObject();
        w.WriteEndArray();
        ResponseJson.Usage(w, stats);
        ResponseJson.Timings(w, stats, queued);
        w.WriteEndObject();
    });

    /// <summary>A streamed chunk of text; the last one (final set) carries the finish reason and the timings.</summary>
    public byte[] Chunk(string text, IReadOnlyList<TokenOrigin> origins, GenerationStats? final) => ResponseJson.Write(w =>
    {
        w.WriteStartObject();
        ResponseJson.Header(w, _id, request.Chat ? "chat.completion.chunk" : "text_completion", _created, model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (request.Chat)
        {
            w.WriteStartObject("delta");
            // OpenAI's first chunk names the role; later ones carry content only.
            if (!_roleSent) w.WriteString("role", "assistant");
            w.WriteString("content", text);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text);
            w.WriteNull("logprobs");
        }
        if (final is null) w.WriteNull("finish_reason");
        else w.WriteString("finish_reason", ResponseJson.Finish(final.FinishReason));
        w.WriteEndObject();
        w.WriteEndArray();
        ResponseJson.Origins(w, origins);
        if (final is not null) ResponseJson.Timings(w, final, queued);
        w.WriteEndObject();
        _roleSent = true;
    });

    /// <summary>stream_options.include_usage's last chunk: no choices, the usage.</summary>
    public byte[] UsageChunk(GenerationStats stats) => ResponseJson.Write(w =>
    {
        w.WriteStartObject();
        ResponseJson.Header(w, _id, request.Chat ? "chat.completion.chunk" : "text_completion", _created, model);
        w.WriteStartArray("choices");
        w.WriteEndArray();
        ResponseJson.Usage(w, stats);
        w.WriteEndObject();
    });

    public async Task Json(byte[] body)
    {
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body);
    }

    public async Task StartEvents(CancellationToken ct)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        // Proxies such as nginx would otherwise hold the events back.
        http.Response.Headers["X-Accel-Buffering"] = "no";
        await http.Response.StartAsync(ct);
    }

    public async Task Event(byte[] json, CancellationToken ct)
    {
        // One write per event: "data: {json}\n\n".
        var message = new byte[json.Length + 8];
        "data: "u8.CopyTo(message);
        json.CopyTo(message, 6);
        "\n\n"u8.CopyTo(message.AsSpan(json.Length + 6));
        await http.Response.Body.WriteAsync(message, ct);
        await http.Response.Body.FlushAsync(ct);
    }

    public async Task Raw(byte[] bytes, CancellationToken ct)
    {
        await http.Response.Body.WriteAsync(bytes, ct);
        await http.Response.Body.FlushAsync(ct);
    }
}
