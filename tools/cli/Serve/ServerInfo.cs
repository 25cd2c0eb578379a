namespace DistillSpec.Cli.Serve;

/// <summary>The bodies of /v1/models and /health: what is served and how.</summary>
internal sealed class ServerInfo(string modelId, ModelSlot slot, int contextSize, ServerOptions options)
{
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public byte[] Models() => ResponseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        w.WriteStartObject();
        w.WriteString("id", modelId);
        w.WriteString("object", "model");
        w.WriteNumber("created", _created);
        w.WriteString("owned_by", "dspec");
        w.WriteStartObject("meta");
        w.WriteString("path", slot.Target.Path);
        w.WriteNumber("n_ctx", contextSize);
        w.WriteNumber("n_vocab", slot.Target.Config.VocabSize);
        w.WriteBoolean("chat_template", slot.Target.ChatTemplate is not null);
        w.WriteString("draft", slot.DraftPath);
        if (slot.Speculative)
        {
            w.WriteNumber("draft_max", options.Speculation.DraftMax);
            w.WriteNumber("draft_min", options.Speculation.DraftMin);
            w.WriteNumber("draft_p_min", options.Speculation.DraftPMin);
        }
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public byte[] Health(SlotScheduler scheduler) => ResponseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("status", "ok");
        w.WriteString("model", modelId);
        w.WriteBoolean("speculative", slot.Speculative);
        w.WriteNumber("slots", scheduler.Slots);
        w.WriteNumber("running", scheduler.Running);
        w.WriteNumber("queued", scheduler.Waiting);
        w.WriteEndObject();
    });
}
