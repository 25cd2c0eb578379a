using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using DistillSpec.Generation;
using DistillSpec.Speculative;

namespace DistillSpec.Cli.Serve;

/// <summary>
/// The bodies the server sends, in OpenAI's shapes: completions, streamed chunks, usage and errors,
/// plus llama-server's "timings" extension (prompt_n, predicted_n, draft_n, draft_n_accepted) with the
/// speculative measures of this engine, and on streamed chunks "token_origins": how each token of the
/// chunk was produced (target, accepted_draft, correction, bonus).
/// </summary>
internal static class ResponseJson
{
    // Quotes and apostrophes as written: the bodies are JSON for API clients, not for embedding in HTML.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, Options)) body(w);
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Error(ApiError e) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", e.Message);
        w.WriteString("type", e.Type);
        w.WriteString("param", e.Param);
        w.WriteString("code", e.Code);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    public static string Origin(TokenOrigin origin) => origin switch
    {
        TokenOrigin.AcceptedDraft => "accepted_draft",
        TokenOrigin.Correction => "correction",
        TokenOrigin.Bonus => "bonus",
        _ => "target",
    };

    public static string Finish(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";

    /// <summary>The fields every completion object and chunk opens with.</summary>
    public static void Header(Utf8JsonWriter w, string id, string obj, long created, string model)
    {
        w.WriteString("id", id);
        w.WriteString("object", obj);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
    }

    public static void Usage(Utf8JsonWriter w, GenerationStats stats)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", stats.PromptTokens);
        w.WriteNumber("completion_tokens", stats.GeneratedTokens);
        w.WriteNumber("total_tokens", stats.PromptTokens + stats.GeneratedTokens);
        w.WriteEndObject();
    }

    /// <summary>llama-server's timings, with the queue wait and, when a draft ran, the speculative counts and measures.</summary>
    public static void Timings(Utf8JsonWriter w, GenerationStats stats, TimeSpan queued)
    {
        w.WriteStartObject("timings");
        w.WriteNumber("queue_ms", queued.TotalMilliseconds);
        w.WriteNumber("prompt_n", stats.PromptTokens);
        w.WriteNumber("prompt_ms", stats.PromptTime.TotalMilliseconds);
        w.WriteNumber("prompt_per_second", stats.PromptTokensPerSecond);
        w.WriteNumber("predicted_n", stats.GeneratedTokens);
        w.WriteNumber("predicted_ms", stats.DecodeTime.TotalMilliseconds);
        w.WriteNumber("predicted_per_second", stats.DecodeTokensPerSecond);
        if (stats.Speculative is { } s) Speculative(w, s);
        w.WriteEndObject();
    }

    private static void Speculative(Utf8JsonWriter w, SpeculativeStats s)
    {
        w.WriteNumber("draft_n", s.Drafted);
        w.WriteNumber("draft_n_accepted", s.AcceptedDrafts);
        w.WriteNumber("target_calls", s.TargetCalls);
        Number(w, "acceptance_rate", s.EmpiricalAcceptance);
        Number(w, "mean_accepted_length", s.BlockEfficiency);
        Number(w, "alpha", s.Alpha);
        w.WriteStartArray("drafted_by_position");
        foreach (int n in s.DraftedAt) w.WriteNumberValue(n);
        w.WriteEndArray();
        w.WriteStartArray("accepted_by_position");
        foreach (int n in s.AcceptedAt) w.WriteNumberValue(n);
        w.WriteEndArray();
        w.WriteStartArray("acceptance_by_position");
        for (int i = 1; i <= s.GammaMax; i++)
        {
            double a = s.AcceptanceAt(i);
            if (double.IsNaN(a)) w.WriteNullValue();
            else w.WriteNumberValue(a);
        }
        w.WriteEndArray();
    }

    // JSON has no NaN: a measure with nothing to measure (no drafts) is null.
    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsNaN(value)) w.WriteNull(name);
        else w.WriteNumber(name, value);
    }

    public static void Origins(Utf8JsonWriter w, IReadOnlyList<TokenOrigin> origins)
    {
        w.WriteStartArray("token_origins");
        foreach (var o in origins) w.WriteStringValue(Origin(o));
        w.WriteEndArray();
    }
}
