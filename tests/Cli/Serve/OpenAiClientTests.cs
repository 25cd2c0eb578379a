using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace DistillSpec.Tests.Cli.Serve;

/// <summary>The official OpenAI .NET SDK and Microsoft.Extensions.AI.OpenAI against dspec serve on loopback.</summary>
[Collection(ServerCollection.Name)]
public sealed class OpenAiClientTests(ServerFixture server)
{
    private const string Question = "Write a function that reads a config file.";
    private const int MaxTokens = 12;

    private ChatClient Client() => new("target", new ApiKeyCredential("not-checked"), new OpenAIClientOptions { Endpoint = new Uri(server.Address, "v1") });

    private static ChatCompletionOptions Greedy() => new() { MaxOutputTokenCount = MaxTokens, Temperature = 0 };

    [Fact]
    public async Task Plain_chat_completion_is_the_models_greedy_reply_with_usage()
    {
        ChatCompletion completion = await Client().CompleteChatAsync([new UserChatMessage(Question)], Greedy());

        Assert.Equal(await server.ExpectedReply(Question, MaxTokens), completion.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, MaxTokens);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Streamed_chat_completion_arrives_in_pieces_that_add_up_to_the_same_reply()
    {
        var text = new System.Text.StringBuilder();
        int updates = 0;
        OpenAI.Chat.ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Client().CompleteChatStreamingAsync([new UserChatMessage(Question)], Greedy()))
        {
            updates++;
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(await server.ExpectedReply(Question, MaxTokens), text.ToString());
        Assert.True(updates > 2, $"expected several chunks, got {updates}");
        Assert.NotNull(finish);
        Assert.NotNull(usage);
        Assert.InRange(usage.OutputTokenCount, 1, MaxTokens);
    }

    [Fact]
    public async Task Cancelling_a_stream_stops_it_and_the_server_goes_on_serving()
    {
        using var cancel = new CancellationTokenSource();
        // A fixed seed: the sampled reply, and so the number of chunks before cancelling, is the same every run.
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 400, Temperature = 1, Seed = 7 };
#pragma warning restore OPENAI001
        int received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in Client().CompleteChatStreamingAsync([new UserChatMessage(Question)], options, cancel.Token))
                if (++received == 2) await cancel.CancelAsync();
        });
        Assert.Equal(2, received);

        ChatCompletion next = await Client().CompleteChatAsync([new UserChatMessage(Question)], Greedy());
        Assert.Equal(await server.ExpectedReply(Question, MaxTokens), next.Content[0].Text);
    }

    [Fact]
    public async Task Extensions_AI_chat_client_gets_the_same_reply_plain_and_streamed()
    {
        using IChatClient client = Client().AsIChatClient();
        var options = new ChatOptions { MaxOutputTokens = MaxTokens, Temperature = 0 };
        string expected = await server.ExpectedReply(Question, MaxTokens);

        var response = await client.GetResponseAsync([new AiChatMessage(ChatRole.User, Question)], options);
        Assert.Equal(expected, response.Text);
        Assert.NotNull(response.Usage);
        Assert.InRange(response.Usage.OutputTokenCount ?? 0, 1, MaxTokens);

        var streamed = new System.Text.StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync([new AiChatMessage(ChatRole.User, Question)], options))
            streamed.Append(update.Text);
        Assert.Equal(expected, streamed.ToString());
    }

    [Fact]
    public async Task Extensions_AI_cancelled_request_throws_and_leaves_the_server_serving()
    {
        using IChatClient client = Client().AsIChatClient();
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new AiChatMessage(ChatRole.User, Question)],
                               new ChatOptions { MaxOutputTokens = 400, Seed = 7 }, cancel.Token))
                await cancel.CancelAsync();
        });

        var response = await client.GetResponseAsync([new AiChatMessage(ChatRole.User, Question)], new ChatOptions { MaxOutputTokens = MaxTokens, Temperature = 0 });
        Assert.Equal(await server.ExpectedReply(Question, MaxTokens), response.Text);
    }
}
