using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DistillSpec.Data;
using DistillSpec.Tokenization;

namespace DistillSpec.Cli;

/// <summary>
/// Encodes a corpus split into a token file for training, with the tokenizer's EOS after every document;
/// with --ids, prints the ids of a text (or the text of ids) instead.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "model or tokenizer directory (Hugging Face layout), or GGUF file", Required = true };
        var input = new Option<string>("--input", "-i") { Description = "corpus file (documents joined by <|endoftext|>)" };
        var output = new Option<string>("--output", "-o") { Description = "token file to write (NAME.bin, with NAME.json beside it)" };
        var ids = new Option<bool>("--ids") { Description = "print token ids as JSON arrays instead of writing a token file" };
        var prompt = new Option<string>("--prompt", "-p") { Description = "with --ids: the text to encode (with --decode: a JSON array of ids)" };
        var jsonl = new Option<string>("--jsonl") { Description = "with --ids: a file of JSON strings, one per line (with --decode: JSON id arrays)" };
        var special = new Option<bool>("--special") { Description = "with --ids: add the special tokens the tokenizer puts around a text (e.g. BOS)" };
        var decode = new Option<bool>("--decode") { Description = "turn ids into text: prints one JSON string per input" };
        var command = new Command("tokenize", "encode a corpus file into a flat token file plus JSON header, or print ids with --ids")
        {
            model, input, output, ids, prompt, jsonl, special, decode,
        };
        command.SetAction(r => CliErrors.Guard(() =>
        {
            string modelDir = r.GetValue(model)!;
            if (r.GetValue(ids) || r.GetValue(decode))
            {
                if (r.GetValue(input) is not null || r.GetValue(output) is not null)
                    throw new ArgumentException("--ids/--decode print to stdout; they take -p or --jsonl, not -i/-o");
                return TokenIdsMode.Run(modelDir, r.GetValue(prompt), r.GetValue(jsonl), r.GetValue(special), r.GetValue(decode));
            }
            if (r.GetValue(input) is not string corpus || r.GetValue(output) is not string tokenFile)
                throw new ArgumentException("tokenize needs -i CORPUS and -o TOKENS (or --ids with -p TEXT / --jsonl FILE)");
            if (r.GetValue(prompt) is not null || r.GetValue(jsonl) is not null || r.GetValue(special))
                throw new ArgumentException("-p, --jsonl and --special only go with --ids");
            return Run(modelDir, corpus, tokenFile);
        }));
        return command;
    }

    private static int Run(string modelDir, string input, string output)
    {
        var clock = Stopwatch.StartNew();
        TextTokenizer tokenizer = TextTokenizer.Load(modelDir);
        if (tokenizer.EosIds.Count == 0) throw new InvalidOperationException($"The tokenizer in {modelDir} has no EOS token to separate documents with.");
        int eos = tokenizer.EosIds[0];
        IReadOnlyList<string> documents = CorpusFile.ReadDocuments(input);

        // Documents are independent, so both cores encode; the file keeps document order.
        var encoded = new int[documents.Count][];
        Parallel.For(0, documents.Count, i => encoded[i] = tokenizer.Encode(documents[i], addBos: false));

        using var writer = new TokenFileWriter(output, tokenizer.VocabSize);
        foreach (int[] ids in encoded)
        {
            writer.Append(ids);
            writer.Append(eos);
        }
        string tokenizerJson = Path.Combine(modelDir, "tokenizer.json");
        TokenFileHeader header = writer.Complete(new TokenFileHeader
        {
            VocabSize = tokenizer.VocabSize,
            EosId = eos,
            Documents = documents.Count,
            Source = input,
            SourceSha256 = Sha256(input),
            Tokenizer = modelDir,
            TokenizerSha256 = File.Exists(tokenizerJson) ? Sha256(tokenizerJson) : null,
        });

        long bytes = documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d));
        long textTokens = header.TokenCount - documents.Count;
        Console.WriteLine($"{input}: {documents.Count} documents, {bytes} bytes of text -> {header.TokenCount} tokens ({TokenFile.Name(header.DType)}, EOS {eos} after each document)");
        Console.WriteLine($"{(double)bytes / textTokens:F3} bytes/token (EOS not counted); wrote {output} and {TokenFile.HeaderPath(output)} in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
