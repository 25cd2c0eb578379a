using DistillSpec.Chat;
using DistillSpec.Speculative;
using Microsoft.Extensions.AI;
using AiMessage = Microsoft.Extensions.AI.ChatMessage;
using Turn = DistillSpec.Chat.ChatMessage;

namespace DistillSpec.Tests.Facade;

public class ChatTests(ShippedPairFixture fixture) : IClassFixture<ShippedPairFixture>
{
    private readonly SpeculativePair _pair = fixture.Pair;
    private static readonly Turn[] Conversation = [Turn.System("You write Python."), Turn.User("Read a config file.")];
    private static readonly GenerationOptions Greedy = new() { MaxTokens = 24, Temperature = 0 };

    [Fact]
    public void AConversationIsPromptedThroughTheTemplateWithItsSpecialTokensAsIds()
    {
        var model = _pair.Target;
        var template = Assert.IsType<ChatTemplate>(model.ChatTemplate);
        string text = template.Render(Conversation, new ChatTemplateOptions { AddGenerationPrompt = true });
        var ids = model.EncodeChat(Conversation, new ChatTemplateOptions { AddGenerationPrompt = true });
        // Each turn ends with the template's eos_token text, which must become the EOS id, not its characters.
        string eosText = template.EosToken!;
        int eos = model.Tokenizer.EosIds[0];
        Assert.Equal(Conversation.Length, ids.Count(id => id == eos));
        Assert.Equal(text.Replace(eosText, ""), model.Decode(ids));
    }

    [Fact]
    public async Task SpeculativeChatIsTheTargetsReply()
    {
        var alone = await GenerationStream.Collect(_pair.Target.ChatAsync(Conversation, Greedy));
        var fast = await GenerationStream.Collect(_pair.ChatAsync(Conversation, Greedy));
        Assert.Equal(alone.TokenIds, fast.TokenIds);
        Assert.NotNull(fast.Stats.Speculative);
    }

    [Fact]
    public async Task TheChatClientAnswersAsChatAsyncDoesAndReportsUsage()
    {
        using IChatClient client = _pair.Target.AsChatClient();
        var expected = await GenerationStream.Collect(_pair.Target.ChatAsync(Conversation, Greedy));
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = Greedy.MaxTokens };
        AiMessage[] messages = [new(ChatRole.System, "You write Python."), new(ChatRole.User, "Read a config file.")];

        var response = await client.GetResponseAsync(messages, options);
        Assert.Equal(expected.Text, response.Text);
        Assert.Equal(expected.Stats.PromptTokens, response.Usage!.InputTokenCount);
        Assert.Equal(expected.TokenIds.Count, response.Usage.OutputTokenCount);
        Assert.Equal(expected.Stats.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);

        var streamed = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(messages, options)) streamed.Add(update);
        Assert.Equal(expected.Text, string.Concat(streamed.Select(u => u.Text)));
        Assert.Single(streamed, u => u.Contents.OfType<UsageContent>().Any());
        Assert.Equal("target", client.GetService<ChatClientMetadata>()!.DefaultModelId);
        Assert.Same(_pair.Target, client.GetService<LocalModel>());
    }

    [Fact]
    public async Task ThePairsChatClientExposesTheSpeculativeMeasures()
    {
        using var client = _pair.AsChatClient(new SpeculativeOptions { DraftMax = 3 });
        var response = await client.GetResponseAsync([new AiMessage(ChatRole.User, "Write a parser.")],
            new ChatOptions { Temperature = 0, MaxOutputTokens = 32, AdditionalProperties = null });
        var stats = Assert.IsType<SpeculativeStats>(response.AdditionalProperties!["speculative"]);
        Assert.Equal(3, stats.GammaMax);
        Assert.Equal(stats.Alpha, (double)response.AdditionalProperties["alpha"]!);
        Assert.NotNull(response.AdditionalProperties["speedup"]);
        Assert.Same(_pair, client.GetService<SpeculativePair>());
    }

    [Fact]
    public async Task CancellationAndUnsupportedContentAreClearErrors()
    {
        using var client = _pair.Target.AsChatClient();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResponseAsync([new AiMessage(ChatRole.User, "hi")], cancellationToken: cancelled.Token));
        var image = new AiMessage(ChatRole.User, [new DataContent(new byte[] { 1, 2 }, "image/png")]);
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => client.GetResponseAsync([image]));
        Assert.Contains("DataContent", error.Message);
    }
}
