using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DistillSpec.Data;
using DistillSpec.Tokenization;

namespace DistillSpec.Cli;

/// <summary>Encodes a corpus split into a token file for training, with the tokenizer's EOS after every document.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "model or tokenizer directory (Hugging Face layout)", Required = true };
        var input = new Option<string>("--input", "-i") { Description = "corpus file (documents joined by <|endoftext|>)", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "token file to write (NAME.bin, with NAME.json beside it)", Required = true };
        var command = new Command("tokenize", "encode a corpus file into a flat token file plus JSON header") { model, input, output };
        command.SetAction(r => CliErrors.Guard(() => Run(r.GetValue(model)!, r.GetValue(input)!, r.GetValue(output)!)));
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
