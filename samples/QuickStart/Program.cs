using DistillSpec;

// Streams a speculative completion: the draft proposes, the target verifies, the text is the target's.
string target = args.Length > 0 ? args[0] : "weights/target", draft = args.Length > 1 ? args[1] : "weights/draft-code-tvd";
using var pair = SpeculativePair.Load(target, draft);

var options = new GenerationOptions { MaxTokens = 64, Temperature = 0, StopStrings = ["\n\n\n"] };
await foreach (var update in pair.GenerateAsync("def read_config(path):", options))
{
    Console.Write(update.Text);
    if (update.Stats is { } stats) Console.WriteLine($"\n\n{stats.Speculative}");
}
