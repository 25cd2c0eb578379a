using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DistillSpec.Cli.Serve;

namespace DistillSpec.Tests.Cli.Serve;

/// <summary>Many clients at once: each gets its own reply, overflow is refused, and a client that leaves stops its generation.</summary>
[Collection(ServerCollection.Name)]
public sealed class ConcurrencyTests(ServerFixture server)
{
    [Fact]
    public async Task Concurrent_requests_each_get_their_own_reply()
    {
        string[] questions = ["Write a sort function.", "Parse a CSV line.", "Open a file.", "Add two numbers.", "Reverse a list.", "Read JSON."];
        var replies = await Task.WhenAll(questions.Select(async (q, i) =>
        {
            if (i % 2 == 0)
            {
                var (_, json) = await server.Post("v1/chat/completions", ServerFixture.ChatBody(q, 10));
                return json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
            }
            using var content = new StringContent(ServerFixture.ChatBody(q, 10, stream: true), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
            using var response = await server.Http.PostAsync(new Uri(server.Address, "v1/chat/completions"), content);
            var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).SkipLast(1);
            return string.Concat(events.Select(e => JsonDocument.Parse(e[6..]).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()));
        }));

        for (int i = 0; i < questions.Length; i++) Assert.Equal(await server.ExpectedReply(questions[i], 10), replies[i]);
    }

    [Fact]
    public async Task Full_queue_answers_429_and_a_client_that_leaves_frees_its_slot()
    {
        // A second server with no queue, on the tiny model run by ILGPU's CPU emulator: slow enough per token that
        // the long request is still generating when its client leaves, however fast this machine is (the shipped
        // pair can finish 400 tokens before the refused request below has been answered).
        DistillSpec.Kernels.GpuBackends.Register();
        using var slow = new ModelSlot(LocalModel.Load(ShippedWeights.Tiny, new ModelOptions { Device = "ilgpu-cpu" }));
        await using var host = await ServeHost.StartAsync([slow], new ServerOptions { Port = 0, Queue = 0 });
        using var http = new HttpClient();
        string longRequest = """{"prompt": "def main():", "max_tokens": 400, "ignore_eos": true, "stream": true}""";

        using (var running = await Send(http, host.Address, longRequest))
        {
            using var reader = new StreamReader(await running.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
            Assert.Equal(1, host.Scheduler.Running);

            using var refused = await Send(http, host.Address, """{"prompt": "hi", "max_tokens": 2}""");
            Assert.Equal(429, (int)refused.StatusCode);
            Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
            using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("rate_limit_exceeded", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        }

        // Leaving mid-stream cancels the generation long before its 400 tokens: the slot is free again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (host.Scheduler.Running > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, host.Scheduler.Running);
        Assert.Contains("dspec_requests_total{outcome=\"cancelled\"} 1", host.Metrics.Render(host.Scheduler));
        Assert.Contains("dspec_requests_total{outcome=\"rejected\"} 1", host.Metrics.Render(host.Scheduler));

        using var after = await Send(http, host.Address, """{"prompt": "hi", "max_tokens": 2}""");
        Assert.Equal(200, (int)after.StatusCode);
    }

    [Fact]
    public async Task Two_slots_run_two_requests_at_once_and_refuse_a_third()
    {
        // At the scheduler, where timing cannot decide it: through HTTP a fast machine finishes one request before
        // the second arrives, so "both at once" is not observable there without slowing generation down.
        using var first = new ModelSlot(LocalModel.Load(ShippedWeights.Tiny));
        using var second = new ModelSlot(LocalModel.Load(ShippedWeights.Tiny));
        var scheduler = new SlotScheduler([first, second], queue: 0);
        using var a = scheduler.TryAdmit()!;
        using var b = scheduler.TryAdmit()!;
        var slots = new[] { await a.AcquireAsync(CancellationToken.None), await b.AcquireAsync(CancellationToken.None) };

        Assert.Equal(2, scheduler.Running);
        Assert.NotSame(slots[0], slots[1]);
        Assert.Null(scheduler.TryAdmit());
    }

    [Fact]
    public async Task Two_slots_answer_two_concurrent_requests_in_full()
    {
        using var first = new ModelSlot(LocalModel.Load(ShippedWeights.Tiny, new ModelOptions { Device = "cpu", Threads = 1 }));
        using var second = new ModelSlot(LocalModel.Load(ShippedWeights.Tiny, new ModelOptions { Device = "cpu", Threads = 1 }));
        await using var host = await ServeHost.StartAsync([first, second], new ServerOptions { Port = 0, Queue = 0 });
        using var http = new HttpClient();
        string request = """{"prompt": "def main():", "max_tokens": 64, "ignore_eos": true}""";

        var responses = await Task.WhenAll(Send(http, host.Address, request), Send(http, host.Address, request));

        foreach (var response in responses)
        {
            Assert.Equal(200, (int)response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(64, json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            response.Dispose();
        }
        Assert.Equal(0, host.Scheduler.Running);
    }

    [Fact]
    public async Task Waiting_requests_get_slots_in_arrival_order()
    {
        using var tiny = new ModelSlot(LocalModel.Load(ShippedWeights.Tiny));
        var scheduler = new SlotScheduler([tiny], queue: 2);
        using var first = scheduler.TryAdmit()!;
        await first.AcquireAsync(CancellationToken.None);
        using var second = scheduler.TryAdmit()!;
        using var third = scheduler.TryAdmit()!;
        Assert.Null(scheduler.TryAdmit());

        var secondTurn = second.AcquireAsync(CancellationToken.None).AsTask();
        var thirdTurn = third.AcquireAsync(CancellationToken.None).AsTask();
        Assert.Equal(2, scheduler.Waiting);
        first.Dispose();
        await secondTurn;
        Assert.False(thirdTurn.IsCompleted);
        second.Dispose();
        await thirdTurn;
        Assert.Equal(0, scheduler.Waiting);
        using var fourth = scheduler.TryAdmit();
        Assert.NotNull(fourth);
    }

    private static Task<HttpResponseMessage> Send(HttpClient http, Uri server, string json) =>
        http.SendAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(server, "v1/completions"))
        {
            Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        }, HttpCompletionOption.ResponseHeadersRead);
}
