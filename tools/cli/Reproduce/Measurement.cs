using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec.Cli.Reproduce;

/// <summary>
/// Measures of one (task, draft, temperature, gamma, lenience and its function) cell, summed over the task's prompts,
/// and the median over prompts of each prompt's wall-clock speed-up: on a shared machine a burst
/// of noise slows a few prompts' runs several-fold, which moves a ratio of summed times but not
/// the median.
/// </summary>
internal sealed record Cell(string Task, string Draft, float Temperature, int Gamma, float Lenience, LenienceFunction LenienceFunction,
    SpeculativeStats Stats, double? TargetNll, double Speedup);

/// <summary>
/// Runs speculative decoding of each prompt against target-only decoding of it
/// (SpeculativeDecoder.GenerateAgainstBaseline), and optionally scores the output's quality.
/// </summary>
internal sealed class Measurement(LanguageModel target, int tokens, int seed)
{
    public Cell Run(string task, string draftName, Transformer draft, List<int[]> prompts, float temperature, int gamma, float lenience,
        LenienceFunction function, bool scoreQuality)
    {
        var settings = new SamplingSettings { Temperature = temperature, TopK = 0, TopP = 1f };
        var options = new SpeculativeOptions { DraftMax = gamma, Lenience = lenience, LenienceFunction = function }.Validate();
        using var decoder = new SpeculativeDecoder(target.Transformer, draft, settings, options, seed);
        var runs = new List<SpeculativeStats>();
        double nll = 0;
        for (int i = 0; i < prompts.Count; i++)
        {
            // A fixed length for every prompt: stopping at EOS would give runs of different lengths.
            var result = decoder.GenerateAgainstBaseline(prompts[i], tokens, seed + i);
            runs.Add(result.Stats);
            if (scoreQuality) nll += SequenceScore.MeanNegativeLogLikelihood(target.Transformer, prompts[i], result.Tokens);
        }
        var speedups = runs.Select(r => r.Speedup ?? double.NaN).Order().ToList();
        double median = speedups.Count % 2 == 1 ? speedups[speedups.Count / 2] : (speedups[speedups.Count / 2 - 1] + speedups[speedups.Count / 2]) / 2;
        return new Cell(task, draftName, temperature, gamma, lenience, function, SpeculativeStats.Combine(runs), scoreQuality ? nll / prompts.Count : null, median);
    }

    /// <summary>The target's own samples scored by itself: the quality lossy decoding gives up from.</summary>
    public double TargetOnlyNll(List<int[]> prompts, float temperature)
    {
        var settings = new SamplingSettings { Temperature = temperature, TopK = 0, TopP = 1f };
        double nll = 0;
        for (int i = 0; i < prompts.Count; i++)
        {
            var result = new Generator(target.Transformer, settings, seed + i).Generate(prompts[i], tokens);
            nll += SequenceScore.MeanNegativeLogLikelihood(target.Transformer, prompts[i], result.Tokens);
        }
        return nll / prompts.Count;
    }
}
