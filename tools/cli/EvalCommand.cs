using System.CommandLine;
using System.Text;
using DistillSpec.Backends;
using DistillSpec.Data;
using DistillSpec.Generation;
using DistillSpec.Models;
using Spectre.Console;

namespace DistillSpec.Cli;

/// <summary>
/// Held-out loss of a model on a corpus file, per token and per byte. Bits per byte compare models with
/// different tokenizers: both score the same text, whatever it is cut into.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "model directory", Required = true };
        var input = new Option<string>("--input", "-i") { Description = "corpus file (documents joined by <|endoftext|>), normally a valid or test split", Required = true };
        var documents = new Option<int>("--documents") { Description = "documents scored, evenly spaced over the file", DefaultValueFactory = _ => 64 };
        var documentBytes = new Option<int>("--document-bytes") { Description = "each document's first N bytes (cut at a character boundary)", DefaultValueFactory = _ => 4096 };
        var window = new Option<int>("--window") { Description = "tokens scored per forward pass; each window starts from the sequence-start token", DefaultValueFactory = _ => 512 };
        var threads = new Option<int>("--threads", "-t") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("eval", "held-out loss of a model on a corpus file: nats per token and bits per byte") { model, input, documents, documentBytes, window, threads };
        foreach (var o in new[] { documents, documentBytes, threads }) CommonOptions.Check(o, n => n >= 1, $"{o.Name} must be at least 1");
        CommonOptions.Check(window, n => n >= 2, "--window must be at least 2");
        command.SetAction(r => CliErrors.Guard(() => Run(r.GetValue(model)!, r.GetValue(input)!, r.GetValue(documents), r.GetValue(documentBytes),
            r.GetValue(window), r.GetValue(threads))));
        return command;
    }

    private static int Run(string modelDirectory, string input, int documentCount, int documentBytes, int window, int threads)
    {
        var all = CorpusFile.ReadDocuments(input);
        using var backend = new SimdBackend(threads);
        using var model = LanguageModel.Load(modelDirectory, backend);
        var tokenizer = model.Tokenizer;
        int start = tokenizer.BosId ?? (tokenizer.EosIds.Count > 0 ? tokenizer.EosIds[0]
            : throw new InvalidOperationException($"'{modelDirectory}' has neither a BOS nor an EOS token to start each document from"));
        window = Math.Min(window, model.Config.MaxPositions);

        int step = Math.Max(1, all.Count / documentCount);
        double nats = 0;
        long tokens = 0, bytes = 0;
        int scored = 0;
        for (int d = 0; d < all.Count && scored < documentCount; d += step, scored++)
        {
            string text = Prefix(all[d], documentBytes);
            int[] ids = tokenizer.Encode(text, addBos: false);
            if (ids.Length == 0) continue;
            // Windows of window - 1 tokens, each after the sequence-start token: what a fresh context predicts.
            for (int i = 0; i < ids.Length; i += window - 1)
            {
                var piece = ids.AsSpan(i, Math.Min(window - 1, ids.Length - i));
                nats += SequenceScore.MeanNegativeLogLikelihood(model.Transformer, [start], piece) * piece.Length;
            }
            tokens += ids.Length;
            bytes += Encoding.UTF8.GetByteCount(text);
        }
        double natsPerToken = nats / tokens, bitsPerByte = nats / Math.Log(2) / bytes;
        AnsiConsole.MarkupLineInterpolated($"{modelDirectory} on {input}: {scored} of {all.Count} documents, {bytes:N0} bytes, {tokens:N0} tokens ({(double)bytes / tokens:F3} bytes/token)");
        Console.WriteLine(FormattableString.Invariant($"loss {natsPerToken:F4} nats/token, {bitsPerByte:F4} bits/byte"));
        return 0;
    }

    // The first maxBytes bytes of text, never splitting a character.
    private static string Prefix(string text, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes) return text;
        int length = 0, used = 0;
        while (length < text.Length)
        {
            int size = char.IsSurrogatePair(text, length) ? 2 : 1;
            int b = Encoding.UTF8.GetByteCount(text.AsSpan(length, size));
            if (used + b > maxBytes) break;
            used += b;
            length += size;
        }
        return text[..length];
    }
}
