using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DistillSpec.Cli.Serve;

/// <summary>
/// POST /v1/chat/completions and /v1/completions: parse and check the request, wait for a slot in
/// the bounded queue, generate with the client's disconnect as the cancellation, and answer with one
/// JSON body or with server-sent events ending in <c>data: [DONE]</c>.
/// </summary>
internal sealed class CompletionEndpoint(SlotScheduler scheduler, ServerMetrics metrics, LocalModel model, string modelId, int contextSize,
    CancellationToken stopping)
{
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public async Task Handle(HttpContext http, bool chat)
    {
        long arrived = Stopwatch.GetTimestamp();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        var ct = cancel.Token;
        // Held until the outcome is recorded (finally runs after the catches), so a freed slot always
        // has its request counted: /metrics never shows a slot free and its request in no outcome.
        SlotScheduler.Ticket? ticket = null;
        try
        {
            var request = await Read(http, chat, ct);
            ticket = scheduler.TryAdmit()
                ?? throw new ApiError(429, $"the server is busy: {scheduler.Slots} running and {scheduler.QueueCapacity} queued; retry later",
                    "rate_limit_exceeded", code: "queue_full");
            var slot = await ticket.AcquireAsync(ct);
            var queued = Stopwatch.GetElapsedTime(arrived);
            var reply = new Reply(http, request, modelId, queued);
            var updates = slot.Generate(request.Prompt, request.Options, ct);
            GenerationStats stats = request.Stream
                ? await Stream(reply, updates, arrived, ct)
                : await Plain(reply, updates);
            metrics.Completed(stats, Stopwatch.GetElapsedTime(arrived));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client left (or the server is stopping): nobody reads an answer.
            metrics.Record(RequestOutcome.Cancelled);
            if (!http.Response.HasStarted && stopping.IsCancellationRequested)
                await Fail(http, new ApiError(503, "the server is shutting down", "server_error", code: "shutting_down"));
        }
        catch (ApiError e)
        {
            metrics.Record(e.Status == 429 ? RequestOutcome.Rejected : RequestOutcome.BadRequest);
            await Fail(http, e);
        }
        catch (Exception e) when (e is Models.ContextLengthException or ArgumentException)
        {
            metrics.Record(RequestOutcome.BadRequest);
            await Fail(http, ApiError.BadRequest(e.Message));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.Record(RequestOutcome.Failed);
            await Fail(http, new ApiError(500, $"generation failed: {e.Message}", "server_error"));
        }
        finally
        {
            ticket?.Dispose();
        }
    }

    private async Task<CompletionRequest> Read(HttpContext http, bool chat, CancellationToken ct)
    {
        if (http.Request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw ApiError.BadRequest("the body must be JSON (Content-Type: application/json)");
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"the body is not valid JSON: {e.Message}", code: "invalid_json");
        }
        catch (BadHttpRequestException e)
        {
            throw new ApiError(e.StatusCode, $"the request body could not be read: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw ApiError.BadRequest("the body must be a JSON object", code: "invalid_json");
            return CompletionRequest.Parse(document.RootElement, chat, model, contextSize);
        }
    }

    private static async Task<GenerationStats> Plain(Reply reply, IAsyncEnumerable<GenerationUpdate> updates)
    {
        var text = new StringBuilder();
        GenerationStats? stats = null;
        await foreach (var update in updates)
        {
            text.Append(update.Text);
            stats ??= update.Stats;
        }
        await reply.Json(reply.Completion(text.ToString(), stats!));
        return stats!;
    }

    private async Task<GenerationStats> Stream(Reply reply, IAsyncEnumerable<GenerationUpdate> updates, long arrived, CancellationToken ct)
    {
        GenerationStats? stats = null;
        bool first = true;
        await foreach (var update in updates)
        {
            if (first)
            {
                metrics.FirstToken(Stopwatch.GetElapsedTime(arrived));
                await reply.StartEvents(ct);
                first = false;
            }
            if (update.Stats is { } final)
            {
                stats = final;
                await reply.Event(reply.Chunk(update.Text, update.Origins, final), ct);
                if (reply.Request.StreamUsage) await reply.Event(reply.UsageChunk(final), ct);
            }
            else if (update.Text.Length > 0 || update.TokenIds.Count > 0)
                await reply.Event(reply.Chunk(update.Text, update.Origins, null), ct);
        }
        await reply.Raw(Done, ct);
        return stats!;
    }

    private static async Task Fail(HttpContext http, ApiError e)
    {
        if (http.Response.HasStarted)
        {
            // Mid-stream, the status is sent: the error goes as an event, as OpenAI's streams do.
            try
            {
                await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes($"data: {Encoding.UTF8.GetString(ResponseJson.Error(e))}\n\n"));
            }
            catch (Exception) when (http.RequestAborted.IsCancellationRequested) { }
            return;
        }
        http.Response.StatusCode = e.Status;
        http.Response.ContentType = "application/json";
        if (e.Status == 429) http.Response.Headers.RetryAfter = "1";
        await http.Response.Body.WriteAsync(ResponseJson.Error(e));
    }
}
