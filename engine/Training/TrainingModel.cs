using System.Numerics.Tensors;
using DistillSpec.Models;

namespace DistillSpec.Training;

/// <summary>
/// A Llama-family model set up for training on batches of B sequences of length T: the forward
/// keeps every activation the backward needs, the backward accumulates into Gradients (a
/// ModelWeights of the same shapes, so optimisers and checkpoints walk both with Parameters()).
/// Full causal attention within each sequence, positions 0..T-1; no KV cache. The forward
/// computes what Transformer.Forward computes, op for op, so logits agree to float rounding.
/// </summary>
public sealed class TrainingModel : IDisposable
{
    private readonly TrainingKernels _k;
    private readonly float[] _cos, _sin;
    private readonly float[][] _residual;      // L + 1 of (N, D): the input of each layer, then the final stream
    private readonly LayerActivations[] _layers;
    private readonly float[] _finalNormed, _finalRstd, _logits, _dLogits;
    private readonly Gradient _d;
    private int[] _tokens = [];

    /// <param name="trainable">false for a frozen teacher: no gradients, and one set of layer buffers reused by every layer.</param>
    public TrainingModel(ModelWeights weights, int maxBatch, int maxSeqLen, int threads, bool trainable = true)
    {
        var c = weights.Config;
        if (c.Architecture != Architecture.Llama)
            throw new ArgumentException($"training supports Llama-family models; {c.ArchitectureName} is not", nameof(weights));
        if (maxSeqLen > c.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(maxSeqLen), maxSeqLen, $"longer than the model's context of {c.MaxPositions}");
        Config = c;
        Weights = weights;
        MaxBatch = maxBatch;
        MaxSeqLen = maxSeqLen;
        Trainable = trainable;
        Gradients = trainable ? ModelWeights.Allocate(c) : null;
        _k = new TrainingKernels(threads);
        (_cos, _sin) = TrainingKernels.RopeTables(maxSeqLen, c.HeadDim, c.RopeTheta);
        int n = maxBatch * maxSeqLen;
        var shared = trainable ? null : new LayerActivations(c, maxBatch, maxSeqLen);
        _layers = Enumerable.Range(0, c.Layers).Select(_ => shared ?? new LayerActivations(c, maxBatch, maxSeqLen)).ToArray();
        var stream = trainable ? null : new float[n * c.HiddenSize];
        _residual = Enumerable.Range(0, c.Layers + 1).Select(_ => stream ?? new float[n * c.HiddenSize]).ToArray();
        _finalNormed = new float[n * c.HiddenSize];
        _finalRstd = new float[n];
        _logits = new float[n * c.VocabSize];
        _dLogits = trainable ? new float[n * c.VocabSize] : [];
        _d = trainable ? new Gradient(c, n) : null!;
    }

    public ModelConfig Config { get; }
    public ModelWeights Weights { get; }
    public ModelWeights? Gradients { get; }
    public bool Trainable { get; }
    public int MaxBatch { get; }
    public int MaxSeqLen { get; }
    public int Threads => _k.Threads;
    public int Batch { get; private set; }
    public int SeqLen { get; private set; }
    public int Rows => Batch * SeqLen;

    /// <summary>(B, T, vocab) logits of the last Forward; rows past B * T are stale.</summary>
    public float[] Logits => _logits;

    /// <summary>(B, T, vocab) gradient of the loss wrt Logits: a loss fills it, then Backward consumes it.</summary>
    public float[] LogitGradients => Trainable ? _dLogits : throw new InvalidOperationException("a frozen model has no gradients");

    internal TrainingKernels Kernels => _k;

    // tokens (B, T) -> Logits (B, T, V)
    public void Forward(ReadOnlySpan<int> tokens, int batch, int seqLen)
    {
        var c = Config;
        if (batch < 1 || batch > MaxBatch || seqLen < 1 || seqLen > MaxSeqLen)
            throw new ArgumentOutOfRangeException(nameof(batch), $"batch {batch} x {seqLen} exceeds the allocated {MaxBatch} x {MaxSeqLen}");
        if (tokens.Length != batch * seqLen) throw new ArgumentException($"expected {batch} x {seqLen} tokens, got {tokens.Length}", nameof(tokens));
        foreach (int t in tokens)
            if ((uint)t >= (uint)c.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), t, $"token id outside the vocabulary of {c.VocabSize}");
        (Batch, SeqLen, _tokens) = (batch, seqLen, tokens.ToArray());
        int n = batch * seqLen, d = c.HiddenSize, f = c.IntermediateSize;
        var w = Weights;

        TrainingKernels.EmbeddingForward(tokens, w.Embedding, d, _residual[0]);
        for (int i = 0; i < c.Layers; i++)
        {
            var l = w.Layers[i];
            var a = _layers[i];
            float[] x = _residual[i], next = _residual[i + 1];
            _k.RmsNormForward(x, l.AttentionNorm, n, d, c.NormEps, a.H1, a.Rstd1);
            _k.MatMulForward(a.H1, n, d, l.Query, c.QDim, l.QueryBias, a.Q);
            _k.MatMulForward(a.H1, n, d, l.Key, c.KvDim, l.KeyBias, a.K);
            _k.MatMulForward(a.H1, n, d, l.Value, c.KvDim, l.ValueBias, a.V);
            _k.RopeForward(a.Q, n, seqLen, c.Heads, c.HeadDim, _cos, _sin);
            _k.RopeForward(a.K, n, seqLen, c.KvHeads, c.HeadDim, _cos, _sin);
            _k.AttentionForward(a.Q, a.K, a.V, batch, seqLen, c.Heads, c.KvHeads, c.HeadDim, a.Probs, a.Attended);
            _k.MatMulForward(a.Attended, n, c.QDim, l.Output, d, l.OutputBias, a.Mid);
            Residual(a.Mid, x, n * d);
            _k.RmsNormForward(a.Mid, l.MlpNorm, n, d, c.NormEps, a.H2, a.Rstd2);
            _k.MatMulForward(a.H2, n, d, l.Gate!, f, l.GateBias, a.Gate);
            _k.MatMulForward(a.H2, n, d, l.Up, f, l.UpBias, a.Up);
            _k.SwiGluForward(a.Gate, a.Up, n * f, a.Act);
            _k.MatMulForward(a.Act, n, f, l.Down, d, l.DownBias, next);
            Residual(next, a.Mid, n * d);
        }
        _k.RmsNormForward(_residual[c.Layers], w.FinalNorm, n, d, c.NormEps, _finalNormed, _finalRstd);
        _k.MatMulForward(_finalNormed, n, d, w.OutputProjection, c.VocabSize, null, _logits);
    }

    // x (N, D) += y (N, D); the backward of a residual is the identity on the stream's gradient.
    private static void Residual(float[] x, float[] y, int length) =>
        TensorPrimitives.Add(x.AsSpan(0, length), y.AsSpan(0, length), x.AsSpan(0, length));

    /// <summary>Backpropagates LogitGradients through the last Forward, adding into Gradients.</summary>
    public void Backward()
    {
        if (!Trainable) throw new InvalidOperationException("a frozen model has no gradients");
        var c = Config;
        int n = Rows, d = c.HiddenSize, f = c.IntermediateSize;
        var w = Weights;
        var g = Gradients!;
        var s = _d;

        _k.MatMulBackward(_dLogits, _finalNormed, n, d, w.OutputProjection, c.VocabSize, s.H, false, g.OutputProjection, null);
        s.X.AsSpan(0, n * d).Clear();
        _k.RmsNormBackward(s.H, _residual[c.Layers], w.FinalNorm, _finalRstd, n, d, s.X, g.FinalNorm);
        for (int i = c.Layers - 1; i >= 0; i--)
        {
            var l = w.Layers[i];
            var gl = g.Layers[i];
            var a = _layers[i];
            // s.X holds the gradient wrt this layer's output stream.
            _k.MatMulBackward(s.X, a.Act, n, f, l.Down, d, s.Act, false, gl.Down, gl.DownBias);
            _k.SwiGluBackward(s.Act, a.Gate, a.Up, n * f, s.Gate, s.Up);
            _k.MatMulBackward(s.Gate, a.H2, n, d, l.Gate!, f, s.H, false, gl.Gate!, gl.GateBias);
            _k.MatMulBackward(s.Up, a.H2, n, d, l.Up, f, s.H, true, gl.Up, gl.UpBias);
            _k.RmsNormBackward(s.H, a.Mid, l.MlpNorm, a.Rstd2, n, d, s.X, gl.MlpNorm);
            _k.MatMulBackward(s.X, a.Attended, n, c.QDim, l.Output, d, s.Attended, false, gl.Output, gl.OutputBias);
            _k.AttentionBackward(s.Attended, a.Q, a.K, a.V, a.Probs, Batch, SeqLen, c.Heads, c.KvHeads, c.HeadDim, s.Q, s.K, s.V);
            _k.RopeBackward(s.Q, n, SeqLen, c.Heads, c.HeadDim, _cos, _sin);
            _k.RopeBackward(s.K, n, SeqLen, c.KvHeads, c.HeadDim, _cos, _sin);
            _k.MatMulBackward(s.Q, a.H1, n, d, l.Query, c.QDim, s.H, false, gl.Query, gl.QueryBias);
            _k.MatMulBackward(s.K, a.H1, n, d, l.Key, c.KvDim, s.H, true, gl.Key, gl.KeyBias);
            _k.MatMulBackward(s.V, a.H1, n, d, l.Value, c.KvDim, s.H, true, gl.Value, gl.ValueBias);
            _k.RmsNormBackward(s.H, _residual[i], l.AttentionNorm, a.Rstd1, n, d, s.X, gl.AttentionNorm);
        }
        TrainingKernels.EmbeddingBackward(_tokens, s.X, d, g.Embedding);
    }

    public void ZeroGradients()
    {
        if (Gradients is null) return;
        foreach (var (_, data, _) in Gradients.Parameters()) Array.Clear(data);
    }

    /// <summary>
    /// Mean next-token cross-entropy over rows whose target is >= 0 (targets (B, T), -1 = ignore),
    /// and, when gradient is set, LogitGradients set to its gradient.
    /// </summary>
    public float CrossEntropy(ReadOnlySpan<int> targets, bool gradient = true)
    {
        int n = Rows, v = Config.VocabSize;
        if (targets.Length != n) throw new ArgumentException($"expected {n} targets, got {targets.Length}", nameof(targets));
        int count = 0;
        foreach (int t in targets)
        {
            if (t >= v) throw new ArgumentOutOfRangeException(nameof(targets), t, $"target outside the vocabulary of {v}");
            if (t >= 0) count++;
        }
        if (count == 0) throw new ArgumentException("every target is ignored", nameof(targets));
        var losses = new float[n];
        _k.CrossEntropyForward(_logits, targets, n, v, losses);
        if (gradient) _k.CrossEntropyBackward(_logits, targets, n, v, 1f / count, LogitGradients);
        double sum = 0;
        foreach (float l in losses) sum += l;
        return (float)(sum / count);
    }

    public void Dispose() => _k.Dispose();

    private sealed class LayerActivations
    {
        public LayerActivations(ModelConfig c, int batch, int seqLen)
        {
            int n = batch * seqLen, d = c.HiddenSize, f = c.IntermediateSize;
            H1 = new float[n * d];
            Rstd1 = new float[n];
            Q = new float[n * c.QDim];
            K = new float[n * c.KvDim];
            V = new float[n * c.KvDim];
            Probs = new float[(long)batch * c.Heads * seqLen * seqLen];
            Attended = new float[n * c.QDim];
            Mid = new float[n * d];
            H2 = new float[n * d];
            Rstd2 = new float[n];
            Gate = new float[n * f];
            Up = new float[n * f];
            Act = new float[n * f];
        }

        public float[] H1 { get; }        // (N, D) attention-norm output
        public float[] Rstd1 { get; }     // (N)
        public float[] Q { get; }         // (N, H * hd), after RoPE
        public float[] K { get; }         // (N, KvH * hd), after RoPE
        public float[] V { get; }         // (N, KvH * hd)
        public float[] Probs { get; }     // (B, H, T, T) causal softmax rows
        public float[] Attended { get; }  // (N, H * hd) attention output before o_proj
        public float[] Mid { get; }       // (N, D) stream after the attention residual
        public float[] H2 { get; }        // (N, D) mlp-norm output
        public float[] Rstd2 { get; }     // (N)
        public float[] Gate { get; }      // (N, F)
        public float[] Up { get; }        // (N, F)
        public float[] Act { get; }       // (N, F) silu(gate) * up
    }

    /// <summary>Activation gradients, reused by every layer.</summary>
    private sealed class Gradient(ModelConfig c, int n)
    {
        public float[] X { get; } = new float[n * c.HiddenSize];
        public float[] H { get; } = new float[n * c.HiddenSize];
        public float[] Attended { get; } = new float[n * c.QDim];
        public float[] Q { get; } = new float[n * c.QDim];
        public float[] K { get; } = new float[n * c.KvDim];
        public float[] V { get; } = new float[n * c.KvDim];
        public float[] Act { get; } = new float[n * c.IntermediateSize];
        public float[] Gate { get; } = new float[n * c.IntermediateSize];
        public float[] Up { get; } = new float[n * c.IntermediateSize];
    }
}
