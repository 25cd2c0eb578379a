using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Speculative;
using DistillSpec.Tests.Backends;
using DistillSpec.Tests.Models;

namespace DistillSpec.Tests.Speculative;

public class SpeculativeDecoderTests
{
    private static readonly ModelConfig Config = TinyModels.Llama();
    private static readonly ModelWeights TargetWeights = ModelWeights.Random(Config, seed: 21, std: 0.2f);
    private static readonly int[][] Prompts = Enumerable.Range(0, 5).Select(i => TinyModels.RandomTokens(1 + 2 * i, Config.VocabSize, seed: 100 + i)).ToArray();

    private static SpeculativeResult Speculate(Transformer target, Transformer draft, int[] prompt, int n, SpeculativeOptions options,
        SamplingSettings? settings = null, IReadOnlySet<int>? stop = null, int seed = 1)
    {
        using var decoder = new SpeculativeDecoder(target, draft, settings ?? SamplingSettings.GreedyDecoding, options, seed);
        var streamed = new List<(int Token, TokenOrigin Origin)>();
        var result = decoder.Generate(prompt, n, stop, (token, origin) => streamed.Add((token, origin)));
        Assert.Equal(result.Tokens, streamed.Select(t => t.Token));
        // Without a stop token cutting a round short, each round emits its accepted drafts and then
        // exactly one token of the target's.
        if (stop is null)
        {
            Assert.Equal(result.Stats.AcceptedDrafts, streamed.Count(t => t.Origin == TokenOrigin.AcceptedDraft));
            Assert.Equal(result.Stats.TargetCalls, streamed.Count(t => t.Origin != TokenOrigin.AcceptedDraft));
            Assert.Equal(result.Stats.RoundsByGamma[0], streamed.Count(t => t.Origin == TokenOrigin.Target));
        }
        return result;
    }

    [Fact]
    public void GreedyMatchesTargetOnlyDecodingForEveryDraftAndGamma()
    {
        using var target = DraftModels.Create(Config, TargetWeights);
        var reference = new Dictionary<(int Prompt, int N), int[]>();
        int[] Reference(int prompt, int n) => reference.TryGetValue((prompt, n), out var r) ? r
            : reference[(prompt, n)] = new Generator(target, SamplingSettings.GreedyDecoding, 0).Generate(Prompts[prompt], n).Tokens;
        for (int p = 0; p < Prompts.Length; p++)
            for (int g = 1; g <= 6; g++) Reference(p, 5 * (g + 1));
        // A token greedy target decoding never produces, for the draft that is always wrong.
        int never = Enumerable.Range(0, Config.VocabSize).First(t => reference.Values.All(r => !r.Contains(t)));

        using var identical = DraftModels.Create(Config, TargetWeights);
        using var perturbed = DraftModels.Perturbed(TargetWeights, noise: 0.02f, seed: 3);
        using var unrelated = DraftModels.Random(TinyModels.Llama(kvHeads: 4, tied: true), seed: 4);
        using var wrong = DraftModels.FixedArgmax(Config.VocabSize, never, seed: 5);
        // The target's own weights stored as BF16: a draft in another weight format than the target's.
        using var bf16 = new Transformer(Config, TargetWeights, new SimdBackend(1), WeightFormat.BF16);
        var drafts = new (string Name, Transformer Model)[]
        {
            ("identical", identical), ("perturbed", perturbed), ("unrelated", unrelated), ("wrong", wrong), ("bf16 copy", bf16),
        };
        var accepted = new Dictionary<string, double>();

        foreach (var (name, draft) in drafts)
        {
            var all = new List<SpeculativeStats>();
            for (int g = 1; g <= 6; g++)
                for (int p = 0; p < Prompts.Length; p++)
                {
                    int n = 5 * (g + 1);
                    var result = Speculate(target, draft, Prompts[p], n, new SpeculativeOptions { DraftMax = g });
                    Assert.True(Reference(p, n).SequenceEqual(result.Tokens), $"draft {name}, gamma {g}, prompt {p}");
                    var stats = result.Stats;
                    Assert.Equal(n, stats.Emitted);
                    if (name == "identical")
                    {
                        Assert.Equal(g + 1, stats.BlockEfficiency);
                        Assert.Equal(1.0, stats.Alpha);
                    }
                    if (name == "wrong")
                    {
                        Assert.Equal(0, stats.AcceptedDrafts);
                        Assert.Equal(1.0, stats.BlockEfficiency);
                        Assert.Equal(0.0, stats.Alpha);
                    }
                    all.Add(stats);
                }
            accepted[name] = SpeculativeStats.Combine(all).EmpiricalAcceptance;
        }
        // The trained-like draft sits between the extremes, so the partial-acceptance path ran too.
        Assert.InRange(accepted["perturbed"], 0.2, 0.99);
        Assert.True(accepted["perturbed"] > accepted["unrelated"], string.Join(", ", accepted));
        Assert.True(accepted["bf16 copy"] > accepted["perturbed"], string.Join(", ", accepted));
    }

    [Fact]
    public void NeverEmitsMoreThanMaxTokensAndStopsAfterTheStopToken()
    {
        using var target = DraftModels.Create(Config, TargetWeights);
        using var draft = DraftModels.Create(Config, TargetWeights);
        var reference = new Generator(target, SamplingSettings.GreedyDecoding, 0).Generate(Prompts[2], 30).Tokens;
        var stop = new HashSet<int> { reference[10] };
        int stopAt = Array.IndexOf(reference, reference[10]);
        foreach (int g in new[] { 1, 3, 4, 8 })
        {
            for (int n = 1; n <= 9; n++)
                Assert.Equal(reference[..n], Speculate(target, draft, Prompts[2], n, new SpeculativeOptions { DraftMax = g }).Tokens);
            var stopped = Speculate(target, draft, Prompts[2], 30, new SpeculativeOptions { DraftMax = g }, stop: stop);
            Assert.Equal(reference[..(stopAt + 1)], stopped.Tokens);
            Assert.Equal(StopReason.EndOfSequence, stopped.StopReason);
        }
    }

    [Fact]
    public void CachesAfterStoppingAnywhereEqualAFreshPassOverTheEmittedSequence()
    {
        using var target = DraftModels.Create(Config, TargetWeights);
        using var draft = DraftModels.Perturbed(TargetWeights, noise: 0.05f, seed: 8);
        var settings = new SamplingSettings { Temperature = 1f };
        var options = new SpeculativeOptions { DraftMax = 4 };
        int v = Config.VocabSize;
        // Stops come from the first 24 of 30 tokens, so the decoder's caches, sized for 30, have room
        // for the test to run one more position.
        var full = Speculate(target, draft, Prompts[3], 30, options, settings, seed: 2);
        Assert.InRange(full.Stats.EmpiricalAcceptance, 0.2, 0.8);

        // Same seed, stopping at each emitted token in turn: the run is identical up to the stop,
        // which lands after rejections, inside accepted blocks and on bonus tokens.
        var lags = new HashSet<int>();
        foreach (int stop in full.Tokens[..24].Distinct())
        {
            using var decoder = new SpeculativeDecoder(target, draft, settings, options, seed: 2);
            var result = decoder.Generate(Prompts[3], 30, new HashSet<int> { stop });
            int[] sequence = [.. Prompts[3], .. full.Tokens[..(Array.IndexOf(full.Tokens, stop) + 1)]];
            Assert.Equal(sequence[Prompts[3].Length..], result.Tokens);
            // The target holds all but the last token; the draft may lag one more, as it never ran
            // the last draft of a fully accepted round.
            Assert.Equal(sequence.Length - 1, decoder.TargetCache.Length);
            lags.Add(sequence.Length - decoder.DraftCache.Length);

            AssertContinuesLikeFresh(target, decoder.TargetCache, sequence);
            AssertContinuesLikeFresh(draft, decoder.DraftCache, sequence);
        }
        Assert.True(lags.SetEquals([1, 2]), $"draft lags seen: {string.Join(", ", lags)}");

        void AssertContinuesLikeFresh(Transformer model, KvCache cache, int[] sequence)
        {
            var next = new float[v];
            model.Forward(sequence.AsSpan(cache.Length), cache.Length, cache, next);
            using var fresh = model.CreateCache();
            var expected = new float[v];
            model.Forward(sequence, 0, fresh, expected);
            BackendOpsTests.AssertClose(expected, next, 1e-4f);
        }
    }

    [Fact]
    public void DynamicGammaDraftsLessWithAPoorDraft()
    {
        using var target = DraftModels.Create(Config, TargetWeights);
        using var draft = DraftModels.Random(TinyModels.Llama(kvHeads: 4, tied: true), seed: 4);
        var fixedGamma = Speculate(target, draft, Prompts[1], 40, new SpeculativeOptions { DraftMax = 6 }).Stats;
        var adaptive = Speculate(target, draft, Prompts[1], 40, new SpeculativeOptions { DraftMax = 6, Adaptive = true }).Stats;
        var confident = Speculate(target, draft, Prompts[1], 40, new SpeculativeOptions { DraftMax = 6, DraftPMin = 0.99f }).Stats;
        Assert.True(adaptive.MeanGamma < fixedGamma.MeanGamma, $"{adaptive.MeanGamma} vs {fixedGamma.MeanGamma}");
        // A random tiny model is never 99% sure, so every round drafts nothing: plain decoding.
        Assert.Equal(0, confident.Drafted);
        Assert.Equal(1.0, confident.BlockEfficiency);
    }

    [Fact]
    public void DraftMinKeepsDraftingBelowDraftPMin()
    {
        using var target = DraftModels.Create(Config, TargetWeights);
        using var draft = DraftModels.Random(TinyModels.Llama(kvHeads: 4, tied: true), seed: 4);
        var stats = Speculate(target, draft, Prompts[1], 40, new SpeculativeOptions { DraftMax = 6, DraftMin = 2, DraftPMin = 0.99f }).Stats;
        // Never 99% sure, the draft stops at DraftMin; a round with less room left drafts what fits.
        Assert.Equal(stats.TargetCalls, stats.RoundsByGamma.Take(3).Sum());
        Assert.True(stats.RoundsByGamma[2] >= stats.TargetCalls - 2, string.Join(",", stats.RoundsByGamma));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpeculativeOptions { DraftMax = 2, DraftMin = 3 }.Validate());
    }

    [Fact]
    public void StatsFollowTheFormulas()
    {
        Assert.Equal(1.0, SpeculativeStats.ExpectedTokens(0, 4));
        Assert.Equal(5.0, SpeculativeStats.ExpectedTokens(1, 4));
        Assert.Equal(1.75, SpeculativeStats.ExpectedTokens(0.5, 2), 12);
        using var target = DraftModels.Create(Config, TargetWeights);
        using var draft = DraftModels.Create(Config, TargetWeights);
        var stats = Speculate(target, draft, Prompts[0], 9, new SpeculativeOptions { DraftMax = 2 }).Stats;
        Assert.Equal(3.0, stats.TheoreticalBlockEfficiency, 12);
        Assert.Equal([3, 3], stats.AcceptedAt);
        Assert.Equal(1.0, stats.AcceptanceAt(2));
        var baseline = new BaselineTiming(9, stats.TotalTime * 2, 8, stats.DraftStepTime * 8);
        var compared = stats with { Baseline = baseline };
        Assert.Equal(1.0, compared.CostRatio!.Value, 6);
        Assert.Equal(3.0 / (2 + 1), compared.MemoryBoundSpeedup!.Value, 6);
        Assert.Equal(2.0, compared.Speedup!.Value, 6);
        var twice = SpeculativeStats.Combine([compared, compared]);
        Assert.Equal(stats.BlockEfficiency, twice.BlockEfficiency);
        Assert.Equal(2.0, twice.Speedup!.Value, 6);
    }

    [Fact]
    public void DraftMaxIsBoundedBy64AndTheContext()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpeculativeOptions { DraftMax = SpeculativeOptions.MaxDraft + 1 }.Validate());
        var shortContext = Config with { MaxPositions = 8 };
        using var target = DraftModels.Create(shortContext, ModelWeights.Random(shortContext, seed: 2));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new SpeculativeDecoder(target, target, SamplingSettings.GreedyDecoding, new SpeculativeOptions { DraftMax = 8 }, seed: 1));
        Assert.Contains("below the context length (8 positions)", error.Message);
    }

    [Fact]
    public void NonFiniteLogitsOfTheDraftOrTheTargetStopDecodingNamingWhich()
    {
        using var target = DraftModels.Create(Config, TargetWeights);
        var broken = ModelWeights.Random(Config, seed: 21, std: 0.2f);
        broken.FinalNorm[0] = float.PositiveInfinity;
        using var brokenModel = DraftModels.Create(Config, broken);

        var draftError = Assert.Throws<NonFiniteLogitsException>(() => Speculate(target, brokenModel, Prompts[1], 8, new SpeculativeOptions { DraftMax = 3 }));
        Assert.StartsWith("the draft produced a non-finite logit", draftError.Message);
        Assert.Equal(Prompts[1].Length - 1, draftError.Position);
        var targetError = Assert.Throws<NonFiniteLogitsException>(() => Speculate(brokenModel, target, Prompts[1], 8, new SpeculativeOptions { DraftMax = 3 }));
        Assert.StartsWith("the target produced a non-finite logit", targetError.Message);
        Assert.Equal(Prompts[1].Length - 1, targetError.Position);
    }
}
