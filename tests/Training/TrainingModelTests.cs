using DistillSpec.Backends;
using DistillSpec.Models;
using DistillSpec.Tests.Backends;
using DistillSpec.Tests.Models;
using DistillSpec.Training;

namespace DistillSpec.Tests.Training;

public class TrainingModelTests
{
    public static TheoryData<string> Llamas => new() { "llama-gqa", "llama-mha-tied", "qwen2-bias" };

    [Theory, MemberData(nameof(Llamas))]
    public void TrainingForwardLogitsEqualInferenceForward(string name)
    {
        var config = TinyModels.ByName(name);
        var weights = ModelWeights.Random(config, seed: 7, std: 0.2f);
        int batch = 3, seqLen = 40;   // crosses the attention kernel's 32-row blocks
        int[] tokens = TinyModels.RandomTokens(batch * seqLen, config.VocabSize, seed: 3);
        using var model = new TrainingModel(weights, batch, seqLen, threads: 2);
        model.Forward(tokens, batch, seqLen);

        using var inference = new Transformer(config, weights, new SimdBackend(2));
        int v = config.VocabSize;
        for (int b = 0; b < batch; b++)
        {
            using var cache = inference.CreateCache();
            var expected = new float[seqLen * v];
            inference.Forward(tokens.AsSpan(b * seqLen, seqLen), 0, cache, expected);
            BackendOpsTests.AssertClose(expected, model.Logits.AsSpan(b * seqLen * v, seqLen * v), 1e-5f);
        }
    }

    // A model small enough to difference every parameter of the double reference (about 5k of them).
    private static ModelConfig GradientConfig(bool tied, bool bias) => new()
    {
        Architecture = Architecture.Llama,
        ArchitectureName = bias ? "Qwen2ForCausalLM" : "LlamaForCausalLM",
        VocabSize = 23, HiddenSize = 16, IntermediateSize = 24, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 4,
        MaxPositions = 16, NormEps = 1e-5f, RopeTheta = 10000f, TiedEmbeddings = tied, AttentionBias = bias,
    };

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void WholeModelGradientsMatchFiniteDifferencesOfTheDoubleReference(bool tied, bool bias)
    {
        var config = GradientConfig(tied, bias);
        var weights = ModelWeights.Random(config, seed: 5, std: 0.3f);
        int batch = 2, seqLen = 5;
        int[] tokens = TinyModels.RandomTokens(batch * seqLen, config.VocabSize, seed: 1);
        int[] targets = TinyModels.RandomTokens(batch * seqLen, config.VocabSize, seed: 2);
        targets[3] = -1;

        using var model = new TrainingModel(weights, batch, seqLen, threads: 2);
        model.Forward(tokens, batch, seqLen);
        float loss = model.CrossEntropy(targets);
        model.ZeroGradients();
        model.Backward();

        var reference = new ReferenceLlama(weights);
        Assert.Equal(reference.Loss(tokens, batch, seqLen, targets), loss, 5);
        foreach (var (name, gradient, _) in model.Gradients!.Parameters())
        {
            // 48 elements per tensor (all of the small ones) keeps the check to about a second.
            var at = GradientCheck.Sample(gradient.Length, 48, seed: name.Length);
            var numeric = GradientCheck.Numeric(() => reference.Loss(tokens, batch, seqLen, targets), reference.Parameters[name], at);
            GradientCheck.AssertClose(numeric, gradient, at, 2e-4, name);
        }
    }

    [Fact]
    public void GradientsAreBitIdenticalAcrossThreadCounts()
    {
        var config = TinyModels.Llama(kvHeads: 2);
        var weights = ModelWeights.Random(config, seed: 9, std: 0.2f);
        int batch = 2, seqLen = 40;
        int[] tokens = TinyModels.RandomTokens(batch * seqLen, config.VocabSize, seed: 4);
        float[][]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var model = new TrainingModel(weights, batch, seqLen, threads);
            model.Forward(tokens, batch, seqLen);
            model.CrossEntropy(tokens);
            model.ZeroGradients();
            model.Backward();
            var grads = model.Gradients!.Parameters().Select(p => (float[])p.Data.Clone()).ToArray();
            if (first is null) first = grads;
            else for (int i = 0; i < grads.Length; i++) Assert.Equal(first[i], grads[i]);
        }
    }

    [Fact]
    public void Gpt2IsAClearError() =>
        Assert.Throws<ArgumentException>(() => new TrainingModel(ModelWeights.Random(TinyModels.Gpt2(), 1), 1, 4, 1));
}
