using System.Diagnostics;
using DistillSpec.Backends;
using DistillSpec.Models;

namespace DistillSpec.Bench;

/// <param name="GreedyAgreement">Leading greedy tokens on which the two engines agree (of the decoded count).</param>
internal sealed record SpeedResult(int Threads, double OursPromptTps, double LlamaPromptTps, double OursDecodeTps, double LlamaDecodeTps,
    int GreedyAgreement)
{
    public double PromptRatio => OursPromptTps / LlamaPromptTps;
    public double DecodeRatio => OursDecodeTps / LlamaDecodeTps;
}

/// <param name="MaxAbsLogit">Scale for MaxAbsDiff: the largest |logit| of our forward pass.</param>
/// <param name="ArgmaxAgreement">Positions whose most likely next token is the same in both.</param>
internal sealed record LogitsResult(string Gguf, int Positions, double MaxAbsDiff, double MaxAbsLogit, int ArgmaxAgreement)
{
    /// <summary>Each position whose argmaxes differ: llama.cpp's gap between its top two logits there, and our max |difference| there.</summary>
    public IReadOnlyList<ArgmaxDisagreement> Disagreements { get; init; } = [];

    /// <summary>Positions where our argmax, and llama.cpp's, equal the f32 model's (when a reference was given): how faithful each engine's quantized run is.</summary>
    public (int Ours, int LlamaCpp)? AgreementWithF32 { get; init; }

    /// <summary>llama.cpp's argmax at every position.</summary>
    public int[] LlamaCppArgmax { get; init; } = [];

    /// <summary>llama.cpp's logits, position after position.</summary>
    public float[] LlamaCppLogits { get; init; } = [];

    /// <summary>The median over positions of each position's max |difference|: how far apart the engines typically are, where MaxAbsDiff is the worst.</summary>
    public double MedianPositionDiff { get; init; }
}

/// <summary>A flip between near-tied tokens has Gap at most about 2 x Diff: the two engines' errors close the gap.</summary>
internal sealed record ArgmaxDisagreement(int Position, double Gap, double Diff);

/// <summary>
/// Our Transformer against llama.cpp on the same weights: prompt and greedy-decode tokens/s
/// measured with one loop for both, and every position's logits compared.
/// </summary>
internal static class EndToEndPeers
{
    /// <summary>Both engines behind Transformer.Forward's calling pattern, keeping the last position's logits.</summary>
    internal interface ICausalModel
    {
        void Forward(ReadOnlySpan<int> tokens, int start);
        ReadOnlySpan<float> LastLogits { get; }

        /// <summary>Drops the cached positions from start on.</summary>
        void Forget(int start);

        /// <summary>Runs tokens at start (after Forget(start)) with logits for every one of them: a verification pass.</summary>
        void Verify(ReadOnlySpan<int> tokens, int start);
    }

    internal sealed class Ours(Transformer model, KvCache cache) : ICausalModel
    {
        private readonly float[] _logits = new float[model.VocabSize];
        private float[] _all = [];
        public void Forward(ReadOnlySpan<int> tokens, int start) => model.Forward(tokens, start, cache, _logits);
        public ReadOnlySpan<float> LastLogits => _logits;

        public void Forget(int start) => cache.Truncate(start);

        public void Verify(ReadOnlySpan<int> tokens, int start)
        {
            if (_all.Length < tokens.Length * model.VocabSize) _all = new float[tokens.Length * model.VocabSize];
            model.Forward(tokens, start, cache, _all.AsSpan(0, tokens.Length * model.VocabSize));
        }
    }

    internal sealed class LlamaCpp(LlamaCppModel model) : ICausalModel
    {
        private int _last;

        public void Forward(ReadOnlySpan<int> tokens, int start)
        {
            if (start == 0) model.Clear();
            model.Evaluate(tokens, start, allLogits: false);
            _last = tokens.Length - 1;
        }

        public ReadOnlySpan<float> LastLogits => model.Logits(_last);

        public void Forget(int start) => model.Forget(start);

        public void Verify(ReadOnlySpan<int> tokens, int start)
        {
            model.Evaluate(tokens, start, allLogits: true);
            _last = tokens.Length - 1;
        }
    }

    public static SpeedResult Speed(ModelConfig config, ModelWeights weights, string gguf, int threads, int[] prompt, int decodeTokens)
    {
        int context = prompt.Length + decodeTokens + 1;
        double oursPrompt, oursDecode;
        int[] oursTokens;
        using (var backend = new SimdBackend(threads))
        using (var transformer = new Transformer(config, weights, backend))
        using (var cache = transformer.CreateCache(context))
            (oursPrompt, oursDecode, oursTokens) = Measure(new Ours(transformer, cache), prompt, decodeTokens);

        using var llama = new LlamaCppModel(gguf, threads, context, prompt.Length);
        var (llamaPrompt, llamaDecode, llamaTokens) = Measure(new LlamaCpp(llama), prompt, decodeTokens);
        int agree = oursTokens.Zip(llamaTokens).TakeWhile(p => p.First == p.Second).Count();
        return new SpeedResult(threads, oursPrompt, llamaPrompt, oursDecode, llamaDecode, agree);
    }

    // Best of three prompt passes and three greedy decodes (after a warm-up), in tokens/s.
    internal static (double Prompt, double Decode, int[] Tokens) Measure(ICausalModel model, int[] prompt, int decodeTokens, int runs = 3)
    {
        double bestPrompt = double.MaxValue, bestDecode = double.MaxValue;
        var tokens = new int[decodeTokens];
        for (int run = 0; run <= runs; run++)
        {
            long start = Stopwatch.GetTimestamp();
            model.Forward(prompt, 0);
            double promptSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            int next = Argmax(model.LastLogits);
            start = Stopwatch.GetTimestamp();
            for (int i = 0; i < decodeTokens; i++)
            {
                tokens[i] = next;
                model.Forward([next], prompt.Length + i);
                next = Argmax(model.LastLogits);
            }
            double decodeSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (run == 0) continue;
            bestPrompt = Math.Min(bestPrompt, promptSeconds);
            bestDecode = Math.Min(bestDecode, decodeSeconds);
        }
        return (prompt.Length / bestPrompt, decodeTokens / bestDecode, tokens);
    }

    /// <summary>
    /// What speculative decoding pays per round: one decode step (a token with its logits) and one verification pass
    /// (`tokens` positions, logits for each), both after the prompt, alternated so that the host's bursts of noise fall
    /// on both, the cache rolled back to the prompt (untimed) before each; medians after two warm-up rounds, in ms.
    /// </summary>
    internal static (double StepMs, double VerifyMs) VerifyCost(ICausalModel model, int[] prompt, int tokens, int rounds = 22)
    {
        model.Forward(prompt, 0);
        var next = Enumerable.Range(0, tokens).Select(i => prompt[i % prompt.Length]).ToArray();
        List<double> steps = [], verifies = [];
        for (int round = 0; round < rounds; round++)
            foreach (int n in new[] { 1, tokens })
            {
                model.Forget(prompt.Length);
                long start = Stopwatch.GetTimestamp();
                model.Verify(next.AsSpan(0, n), prompt.Length);
                if (round >= 2) (n == 1 ? steps : verifies).Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        return (Median.Of(steps), Median.Of(verifies));
    }

    /// <summary>Logits of every position of tokens, ours against llama.cpp's from the given GGUF file.</summary>
    public static LogitsResult Logits(ModelConfig config, ModelWeights weights, string gguf, string label, int[] tokens, int threads,
        bool flashAttention)
    {
        using var backend = new SimdBackend(threads);
        using var transformer = new Transformer(config, weights, backend);
        return Logits(transformer, gguf, label, tokens, threads, flashAttention);
    }

    /// <summary>Logits of every position of tokens, ours from a loaded model against llama.cpp's from the given GGUF file.</summary>
    /// <param name="f32Argmax">The argmax of every position under the f32 model, to count each engine's agreement with it; null for none.</param>
    public static LogitsResult Logits(Transformer transformer, string gguf, string label, int[] tokens, int threads, bool flashAttention,
        int[]? f32Argmax = null)
    {
        int v = transformer.VocabSize, k = tokens.Length;
        var ours = new float[k * v];
        using (var cache = transformer.CreateCache(k))
            transformer.Forward(tokens, 0, cache, ours);

        using var llama = new LlamaCppModel(gguf, threads, k, k, flashAttention);
        if (llama.VocabSize != v) throw new InvalidOperationException($"llama.cpp sees {llama.VocabSize} tokens in {gguf}, expected {v}");
        llama.Evaluate(tokens, 0, allLogits: true);
        double maxDiff = 0, maxLogit = 0;
        int agree = 0, oursF32 = 0, theirsF32 = 0;
        var theirLogits = new float[k * v];
        var positionDiffs = new double[k];
        var disagreements = new List<ArgmaxDisagreement>();
        var theirArgmax = new int[k];
        for (int p = 0; p < k; p++)
        {
            var mine = ours.AsSpan(p * v, v);
            var theirs = llama.Logits(p);
            theirs.CopyTo(theirLogits.AsSpan(p * v, v));
            double diff = MaxAbsDiff(mine, theirs);
            foreach (float x in mine) maxLogit = Math.Max(maxLogit, Math.Abs(x));
            maxDiff = Math.Max(maxDiff, diff);
            positionDiffs[p] = diff;
            int ourArgmax = Argmax(mine);
            theirArgmax[p] = Argmax(theirs);
            if (ourArgmax == theirArgmax[p]) agree++;
            else disagreements.Add(new ArgmaxDisagreement(p, TopGap(theirs), diff));
            if (f32Argmax is not null && ourArgmax == f32Argmax[p]) oursF32++;
            if (f32Argmax is not null && theirArgmax[p] == f32Argmax[p]) theirsF32++;
        }
        return new LogitsResult(label, k, maxDiff, maxLogit, agree)
        {
            Disagreements = disagreements,
            LlamaCppArgmax = theirArgmax,
            LlamaCppLogits = theirLogits,
            MedianPositionDiff = Median.Of(positionDiffs),
            AgreementWithF32 = f32Argmax is null ? null : (oursF32, theirsF32),
        };
    }

    /// <summary>The argmax of every position of tokens under the transformer.</summary>
    public static int[] Argmaxes(Transformer transformer, int[] tokens)
    {
        int v = transformer.VocabSize;
        var logits = new float[tokens.Length * v];
        using (var cache = transformer.CreateCache(tokens.Length))
            transformer.Forward(tokens, 0, cache, logits);
        return [.. Enumerable.Range(0, tokens.Length).Select(p => Argmax(logits.AsSpan(p * v, v)))];
    }

    /// <summary>The largest |a[i] - b[i]|.</summary>
    internal static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double diff = 0;
        for (int i = 0; i < a.Length; i++) diff = Math.Max(diff, Math.Abs(a[i] - b[i]));
        return diff;
    }

    private static int Argmax(ReadOnlySpan<float> logits) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);

    private static double TopGap(ReadOnlySpan<float> logits)
    {
        float first = float.NegativeInfinity, second = float.NegativeInfinity;
        foreach (float x in logits)
        {
            if (x > first) (first, second) = (x, first);
            else if (x > second) second = x;
        }
        return first - second;
    }
}
