using System.CommandLine;
using System.Diagnostics;
using DistillSpec.Data;
using DistillSpec.Tokenization;

namespace DistillSpec.Cli;

/// <summary>Trains one byte-level BPE tokenizer on corpus files, so that a target and its draft can share it.</summary>
internal static class TrainTokenizerCommand
{
    public static Command Create()
    {
        var input = new Option<string[]>("--input", "-i")
        {
            Description = "corpus files (documents joined by <|endoftext|>), comma-separated or repeated",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
            CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray(),
        };
        var vocab = new Option<int>("--vocab") { Description = "vocabulary size, byte tokens and <|endoftext|> included", DefaultValueFactory = _ => 6000 };
        var minCount = new Option<int>("--min-count") { Description = "stop when no pair occurs this often", DefaultValueFactory = _ => 2 };
        var output = new Option<string>("--output", "-o") { Description = "directory to write the tokenizer files to", Required = true };
        var command = new Command("train-tokenizer", "train a byte-level BPE tokenizer (GPT-2 style) and save it in Hugging Face layout")
        {
            input, vocab, minCount, output,
        };
        CommonOptions.Check(vocab, v => v >= 257, "--vocab must be at least 257 (256 bytes + <|endoftext|>)");
        CommonOptions.Check(minCount, c => c >= 1, "--min-count must be at least 1");
        command.SetAction(r => CliErrors.Guard(() =>
            Run(r.GetValue(input)!, r.GetValue(vocab), r.GetValue(minCount), r.GetValue(output)!)));
        return command;
    }

    private static int Run(string[] inputs, int vocabSize, int minCount, string output)
    {
        var trainer = new BpeTrainer();
        var clock = Stopwatch.StartNew();
        long bytes = 0;
        int documents = 0;
        foreach (string path in inputs)
        {
            bytes += new FileInfo(path).Length;
            foreach (string document in CorpusFile.ReadDocuments(path))
            {
                trainer.AddText(document);
                documents++;
            }
        }
        TimeSpan counting = clock.Elapsed;
        Console.WriteLine($"counted {trainer.DistinctWords} distinct words in {documents} documents, {bytes / 1e6:F2} MB, in {counting.TotalSeconds:F1} s");

        TrainedBpe bpe = trainer.Train(vocabSize, minCount);
        TimeSpan merging = clock.Elapsed - counting;
        bpe.Save(output);
        Console.WriteLine($"learned {bpe.Merges.Count} merges in {merging.TotalSeconds:F1} s; vocabulary {bpe.VocabSize} tokens" +
                          (bpe.VocabSize < vocabSize ? $" (fewer than {vocabSize}: no pair left occurring {minCount}+ times)" : ""));
        Console.WriteLine($"wrote {output} in {clock.Elapsed.TotalSeconds:F1} s total");
        return 0;
    }
}
