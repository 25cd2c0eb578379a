using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Tests.Models;

namespace DistillSpec.Tests.Generation;

public sealed class GeneratorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("generator-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void GreedyGenerationFollowsTheArgmaxOfFullForwardPasses()
    {
        var config = TinyModels.Llama();
        using var model = new Transformer(config, ModelWeights.Random(config, seed: 3, std: 0.3f), new SimdBackend(2));
        int[] prompt = [5, 9, 17];
        var result = new Generator(model, SamplingSettings.GreedyDecoding, seed: 0).Generate(prompt, 12);

        var sequence = prompt.ToList();
        foreach (int token in result.Tokens)
        {
            using var cache = model.CreateCache();
            var logits = new float[config.VocabSize];
            model.Forward(sequence.ToArray(), 0, cache, logits);
            Assert.Equal(Array.IndexOf(logits, logits.Max()), token);
            sequence.Add(token);
        }
        Assert.Equal(12, result.Tokens.Length);
        Assert.Equal(11, result.DecodeSteps);
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndStopsAtEos()
    {
        var config = TinyModels.Llama();
        using var model = new Transformer(config, ModelWeights.Random(config, seed: 3, std: 0.3f), new SimdBackend(1));
        var settings = new SamplingSettings { Temperature = 1f, TopK = 10, TopP = 0.9f };
        var a = new Generator(model, settings, seed: 7).Generate([1, 2], 30);
        var b = new Generator(model, settings, seed: 7).Generate([1, 2], 30);
        Assert.Equal(a.Tokens, b.Tokens);

        int stop = a.Tokens[4];
        var stopped = new Generator(model, settings, seed: 7).Generate([1, 2], 30, new HashSet<int> { stop });
        Assert.Equal(StopReason.EndOfSequence, stopped.StopReason);
        Assert.Equal(stop, stopped.Tokens[^1]);
        Assert.True(stopped.Tokens.Length <= 5);
    }

    [Fact]
    public void ARandomModelDirectoryLoadsAndGeneratesText()
    {
        var config = RandomModel.LlamaConfig(hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 64, vocab: 300, context: 64);
        RandomModel.Create(_dir, config, seed: 4);
        using var model = LanguageModel.Load(_dir, new SimdBackend(1));
        Assert.Equal(config, model.Config);
        var prompt = model.Tokenizer.Encode("def main():", addBos: false);
        Assert.Equal("def main():", model.Tokenizer.Decode(prompt));
        var result = new Generator(model.Transformer, SamplingSettings.GreedyDecoding, 0).Generate(prompt, 8);
        Assert.InRange(result.Tokens.Length, 1, 8);
        Assert.Throws<ContextLengthException>(() =>
            new Generator(model.Transformer, SamplingSettings.GreedyDecoding, 0).Generate(prompt, 64));
    }

    [Fact]
    public void NonFiniteLogitsStopGenerationNamingThePosition()
    {
        var config = TinyModels.Llama();
        var weights = ModelWeights.Random(config, seed: 3, std: 0.3f);
        // Only token 7's embedding is broken: the prompt runs clean, and the first step that feeds 7 fails.
        weights.Embedding.AsSpan(7 * config.HiddenSize, config.HiddenSize).Fill(float.NaN);
        using var model = new Transformer(config, weights, new SimdBackend(1));

        var error = Assert.Throws<NonFiniteLogitsException>(() => new Generator(model, SamplingSettings.GreedyDecoding, seed: 0).Generate([5, 9, 7], 4));

        Assert.Equal(2, error.Position);
        Assert.Contains("non-finite logit (NaN) at position 2", error.Message);
    }
}


public class SequenceScoreTests
{
    [Fact]
    public void NegativeLogLikelihoodMatchesStepByStepSoftmax()
    {
        var config = TinyModels.Llama();
        using var model = new Transformer(config, ModelWeights.Random(config, seed: 8, std: 0.3f), new SimdBackend(1));
        int[] prompt = [3, 4], continuation = [7, 1, 9];
        double expected = 0;
        var sequence = prompt.ToList();
        foreach (int token in continuation)
        {
            using var cache = model.CreateCache();
            var logits = new float[config.VocabSize];
            model.Forward(sequence.ToArray(), 0, cache, logits);
            double z = logits.Sum(l => Math.Exp(l));
            expected -= Math.Log(Math.Exp(logits[token]) / z);
            sequence.Add(token);
        }
        Assert.Equal(expected / continuation.Length, SequenceScore.MeanNegativeLogLikelihood(model, prompt, continuation), 4);
    }
}
