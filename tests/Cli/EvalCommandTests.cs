using System.Globalization;
using System.Text;
using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Models;

namespace DistillSpec.Tests.Cli;

[Collection("Console")]
public class EvalCommandTests
{
    [Fact]
    public void ScoresEachDocumentFromTheStartToken_PerTokenAndPerByte()
    {
        string[] documents = ["def f(x):\n    return x + 1\n", "The cat sat on the mat."];
        using var dir = new TempDirectory();
        dir.Write("valid.txt", string.Join("<|endoftext|>", documents));
        var output = new StringWriter();

        int code = DistillSpec.Cli.Cli.Run(["eval", "-m", ShippedWeights.Tiny, "-i", dir.File("valid.txt"), "--documents", "2", "-t", "1"], output, TextWriter.Null);

        Assert.Equal(0, code);
        using var backend = new SimdBackend(1);
        using var model = LanguageModel.Load(ShippedWeights.Tiny, backend);
        int start = model.Tokenizer.BosId ?? model.Tokenizer.EosIds[0];
        double nats = 0;
        int tokens = 0;
        foreach (string text in documents)
        {
            int[] ids = model.Tokenizer.Encode(text, addBos: false);
            nats += SequenceScore.MeanNegativeLogLikelihood(model.Transformer, [start], ids) * ids.Length;
            tokens += ids.Length;
        }
        int bytes = documents.Sum(Encoding.UTF8.GetByteCount);
        string expected = string.Create(CultureInfo.InvariantCulture, $"loss {nats / tokens:F4} nats/token, {nats / Math.Log(2) / bytes:F4} bits/byte");
        Assert.Contains(expected, output.ToString());
    }
}
