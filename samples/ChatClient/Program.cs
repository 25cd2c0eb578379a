using DistillSpec;
using Microsoft.Extensions.AI;

// Any code written against Microsoft.Extensions.AI's IChatClient can run on the local engine.
string target = args.Length > 0 ? args[0] : "weights/target", draft = args.Length > 1 ? args[1] : "weights/draft-code-tvd";
using var pair = SpeculativePair.Load(target, draft);
IChatClient client = pair.AsChatClient();

List<ChatMessage> history = [new(ChatRole.System, "You write Python."), new(ChatRole.User, "Read a config file.")];
var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 48 };
await foreach (var update in client.GetStreamingResponseAsync(history, options))
    Console.Write(update.Text);

var response = await client.GetResponseAsync(history, options);
Console.WriteLine($"\n\n{response.Usage!.InputTokenCount} prompt tokens, {response.Usage.OutputTokenCount} generated, " +
                  $"alpha {response.AdditionalProperties!["alpha"]:F2}, speed-up {response.AdditionalProperties["speedup"]:F2}x (estimated)");
