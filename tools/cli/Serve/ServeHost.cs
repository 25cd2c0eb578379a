using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistillSpec.Cli.Serve;

/// <summary>
/// The OpenAI-compatible server over loaded model slots, running on Kestrel: the completion
/// endpoints, /v1/models, /health, /metrics and the page at /. The slots stay the caller's.
/// </summary>
internal sealed class ServeHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ServeHost(WebApplication app, Uri address, ServerMetrics metrics, SlotScheduler scheduler)
    {
        _app = app;
        Address = address;
        Metrics = metrics;
        Scheduler = scheduler;
    }

    /// <summary>Where it listens, e.g. http://127.0.0.1:8080/ (the port actually bound when 0 was asked for).</summary>
    public Uri Address { get; }

    public ServerMetrics Metrics { get; }

    public SlotScheduler Scheduler { get; }

    /// <param name="slots">Copies of one model (with or without a draft), each serving one request at a time.</param>
    public static async Task<ServeHost> StartAsync(IReadOnlyList<ModelSlot> slots, ServerOptions options, Action<string>? log = null)
    {
        var model = slots[0].Target;
        int contextSize = options.ContextSize == 0 ? model.ContextLength : options.ContextSize;
        if (contextSize < 2 || contextSize > model.ContextLength)
            throw new ArgumentException($"--ctx-size must be in [2, {model.ContextLength}] (the model's context length), got {contextSize}");
        string modelId = LocalChatClient.ModelId(model);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{options.Host}:{options.Port}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 4 << 20);
        var app = builder.Build();

        var metrics = new ServerMetrics();
        var scheduler = new SlotScheduler(slots, options.Queue);
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var completions = new CompletionEndpoint(scheduler, metrics, model, modelId, contextSize, lifetime.ApplicationStopping);
        var info = new ServerInfo(modelId, slots[0], contextSize, options);

        app.MapPost("/v1/chat/completions", (HttpContext http) => completions.Handle(http, chat: true));
        app.MapPost("/v1/completions", (HttpContext http) => completions.Handle(http, chat: false));
        app.MapGet("/v1/models", (HttpContext http) => Json(http, 200, info.Models()));
        app.MapGet("/health", (HttpContext http) => lifetime.ApplicationStopping.IsCancellationRequested
            ? Json(http, 503, ResponseJson.Write(w => { w.WriteStartObject(); w.WriteString("status", "shutting down"); w.WriteEndObject(); }))
            : Json(http, 200, info.Health(scheduler)));
        app.MapGet("/metrics", (HttpContext http) =>
        {
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            return http.Response.WriteAsync(metrics.Render(scheduler));
        });
        app.MapGet("/", (HttpContext http) =>
        {
            http.Response.ContentType = "text/html; charset=utf-8";
            return http.Response.Body.WriteAsync(Page.Value).AsTask();
        });
        // Unknown paths and methods answer in the API's error shape too.
        app.MapFallback((HttpContext http) => Json(http, 404, ResponseJson.Error(new ApiError(404,
            $"no route {http.Request.Method} {http.Request.Path}; see /v1/chat/completions, /v1/completions, /v1/models, /health, /metrics", code: "not_found"))));

        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        log?.Invoke($"listening on {bound}");
        return new ServeHost(app, new Uri(bound.EndsWith('/') ? bound : bound + "/"), metrics, scheduler);
    }

    /// <summary>Runs until Ctrl-C or SIGTERM.</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static Task Json(HttpContext http, int status, byte[] body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.Body.WriteAsync(body).AsTask();
    }

    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = typeof(ServeHost).Assembly.GetManifestResourceStream("DistillSpec.Cli.Serve.index.html")
            ?? throw new InvalidOperationException("the page resource DistillSpec.Cli.Serve.index.html is missing from the build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });
}
