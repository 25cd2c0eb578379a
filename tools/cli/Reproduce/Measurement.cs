using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec.Cli.Reproduce;

/// <summary>
/// Measures of one (task, draft, temperature, gamma, lenience and its function) cell, summed over the task's prompts,
/// and the median over prompts of each prompt's wall-clock speed-up: on a shared machine a burst
/// of noise slows a few prompts' runs several-fold, which moves a ratio of summed times but not
/// the median. Quality (lossy cells only) is the target's NLL per token of the output.
/// </summary>
internal sealed record Cell(string Task, string Draft, float Temperature, int Gamma, float Lenience, LenienceFunction LenienceFunction,
    SpeculativeStats Stats, Quality? Quality, double Speedup, IReadOnlyList<double> PromptSpeedups);

/// <summary>
/// Mean target NLL per generated token over prompts, with a 95% confidence interval, and its paired
/// difference from target-only sampling of the same prompts and seeds: prompts differ in difficulty
/// far more than lenience changes quality, and pairing cancels that part of the spread.
/// </summary>
internal sealed record Quality(int Samples, double Nll, double NllHalfWidth, double Delta, double DeltaHalfWidth)
{
    public static Quality From(IReadOnlyList<double> nll, IReadOnlyList<double> targetOnly)
    {
        var deltas = nll.Zip(targetOnly, (a, b) => a - b).ToList();
        return new Quality(nll.Count, nll.Average(), HalfWidth(nll), deltas.Average(), HalfWidth(deltas));
    }

    // Normal approximation: 1.96 standard errors (samples are 64 or more prompts).
    private static double HalfWidth(IReadOnlyList<double> xs)
    {
        if (xs.Count < 2) return double.NaN;
        double mean = xs.Average();
        double variance = xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1);
        return 1.96 * Math.Sqrt(variance / xs.Count);
    }
}

/// <summary>
/// Runs speculative decoding of each prompt against target-only decoding of it
/// (SpeculativeDecoder.GenerateAgainstBaseline: warm, interleaved), and optionally scores quality.
/// </summary>
internal sealed class Measurement(LanguageModel target, int tokens, int seed)
{
    private readonly Dictionary<(int Prompts, float Temperature), List<double>> _targetOnly = [];

    /// <summary>
    /// Speed over speedPrompts of every draft in one setting (task, temperature, gamma, lenience); with
    /// qualityPrompts, quality over those (the speed runs' outputs reused). The drafts take turns on each
    /// prompt, starting from a different one each time, so a drift of the machine's speed over the minutes
    /// a setting takes falls on every draft alike: cells measured one after another would differ by the
    /// drift (10-20% on a shared machine) as well as by their drafts.
    /// </summary>
    public List<Cell> Run(string task, IReadOnlyList<(string Name, Transformer Model)> drafts, List<int[]> speedPrompts, float temperature, int gamma,
        float lenience, LenienceFunction function, List<int[]>? qualityPrompts = null)
    {
        var settings = new SamplingSettings { Temperature = temperature, TopK = 0, TopP = 1f };
        var options = new SpeculativeOptions { DraftMax = gamma, Lenience = lenience, LenienceFunction = function }.Validate();
        var decoders = drafts.Select(d => new SpeculativeDecoder(target.Transformer, d.Model, settings, options, seed)).ToList();
        try
        {
            var runs = drafts.Select(_ => new List<SpeculativeStats>()).ToList();
            var nll = drafts.Select(_ => new List<double>()).ToList();
            for (int i = 0; i < speedPrompts.Count; i++)
                for (int turn = 0; turn < drafts.Count; turn++)
                {
                    int d = (i + turn) % drafts.Count;
                    // A fixed length for every prompt: stopping at EOS would give runs of different lengths.
                    var result = decoders[d].GenerateAgainstBaseline(speedPrompts[i], tokens, seed + i, seed: seed + i);
                    runs[d].Add(result.Stats);
                    if (qualityPrompts is not null) nll[d].Add(SequenceScore.MeanNegativeLogLikelihood(target.Transformer, speedPrompts[i], result.Tokens));
                }
            var cells = new List<Cell>();
            for (int d = 0; d < drafts.Count; d++)
            {
                Quality? quality = null;
                if (qualityPrompts is not null)
                {
                    for (int i = speedPrompts.Count; i < qualityPrompts.Count; i++)
                    {
                        var result = decoders[d].Generate(qualityPrompts[i], tokens, seed: seed + i);
                        nll[d].Add(SequenceScore.MeanNegativeLogLikelihood(target.Transformer, qualityPrompts[i], result.Tokens));
                    }
                    quality = Quality.From(nll[d], TargetOnly(qualityPrompts, temperature));
                }
                var speedups = runs[d].Select(r => r.Speedup ?? double.NaN).ToList();
                cells.Add(new Cell(task, drafts[d].Name, temperature, gamma, lenience, function, SpeculativeStats.Combine(runs[d]), quality,
                    Median(speedups), speedups));
            }
            return cells;
        }
        finally
        {
            foreach (var decoder in decoders) decoder.Dispose();
        }
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The target's own samples scored by itself, per prompt (seeded as the cells are): what lossy decoding gives up from.</summary>
    public List<double> TargetOnly(List<int[]> prompts, float temperature)
    {
        if (_targetOnly.TryGetValue((prompts.Count, temperature), out var cached)) return cached;
        var settings = new SamplingSettings { Temperature = temperature, TopK = 0, TopP = 1f };
        var nll = new List<double>();
        for (int i = 0; i < prompts.Count; i++)
        {
            var result = new Generator(target.Transformer, settings, seed + i).Generate(prompts[i], tokens);
            nll.Add(SequenceScore.MeanNegativeLogLikelihood(target.Transformer, prompts[i], result.Tokens));
        }
        return _targetOnly[(prompts.Count, temperature)] = nll;
    }
}
