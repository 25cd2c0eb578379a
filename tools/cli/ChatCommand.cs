using System.CommandLine;
using DistillSpec.Speculative;
using Turn = DistillSpec.Chat.ChatMessage;

namespace DistillSpec.Cli;

/// <summary>
/// An interactive chat through the model's chat template: each line on stdin is a user turn, each
/// reply is streamed and kept in the history. With -md the replies are decoded speculatively.
/// -p answers one message and exits.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var draft = new Option<string?>("--model-draft", "-md") { Description = "draft model directory or GGUF file: decode replies speculatively (same output as the target alone)" };
        var system = new Option<string?>("--system") { Description = "system message that opens the conversation" };
        var command = new Command("chat", "chat with a model through its chat template; one user turn per line, /exit or end of input to stop") { draft, system };
        common.AddTo(command);
        command.SetAction(r => CliErrors.Guard(() => Run(r, common, r.GetValue(draft), r.GetValue(system))));
        return command;
    }

    private static int Run(ParseResult r, CommonOptions common, string? draftPath, string? system)
    {
        var modelOptions = common.Placement(r, r.GetValue(common.Device)!, common.Format(r), profiler: null);
        using var pair = draftPath is null ? null : SpeculativePair.Load(r.GetValue(common.Model)!, draftPath, new SpeculativePairOptions { Target = modelOptions });
        using var single = pair is null ? LocalModel.Load(r.GetValue(common.Model)!, modelOptions) : null;
        var model = pair?.Target ?? single!;
        if (model.ChatTemplate is null)
            throw new InvalidOperationException($"the model '{model.Path}' has no chat template; use generate for plain text");

        var history = new List<Turn>();
        if (!string.IsNullOrEmpty(system)) history.Add(Turn.System(system));
        var options = common.Generation(r);
        string once = r.GetValue(common.Prompt)!;
        bool interactive = once.Length == 0;
        if (interactive) Console.Error.WriteLine($"chatting with {model.Path} on {(pair?.Devices ?? model.Device)}; /exit or end of input to stop");

        while (true)
        {
            string? line = interactive ? Prompt() : once;
            if (line is null || line.Trim() == "/exit") break;
            if (line.Trim().Length == 0) continue;
            history.Add(Turn.User(line));
            var reply = new System.Text.StringBuilder();
            var updates = pair is null ? model.ChatAsync(history, options) : pair.ChatAsync(history, options);
            GenerationStats? stats = null;
            foreach (var update in updates.ToBlockingEnumerable())
            {
                Console.Write(update.Text);
                reply.Append(update.Text);
                stats ??= update.Stats;
            }
            Console.WriteLine();
            Console.Error.WriteLine($"[{stats!.GeneratedTokens} tokens, {stats.DecodeTokensPerSecond:F0} tokens/s{Measures(stats.Speculative)}]");
            history.Add(Turn.Assistant(reply.ToString()));
            if (!interactive) break;
        }
        return 0;
    }

    private static string? Prompt()
    {
        Console.Error.Write("> ");
        return Console.ReadLine();
    }

    private static string Measures(SpeculativeStats? s) =>
        s is null ? "" : $", alpha {s.Alpha:F2}, tau {s.BlockEfficiency:F2}";
}
