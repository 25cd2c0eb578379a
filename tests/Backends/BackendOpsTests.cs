using DistillSpec.Backends;
using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Speculative;
using DistillSpec.Tests.Kernels;
using DistillSpec.Tests.Models;
using DistillSpec.Tests.Sampling;

namespace DistillSpec.Tests.Backends;

/// <summary>
/// Every operation of every registered backend that opens on this machine (cpu; ilgpu-cpu, the
/// ILGPU kernels on ILGPU's CPU emulator; cuda or opencl where present), and whole forward passes,
/// against the scalar reference on the same random inputs, in every weight format the backend
/// stores: the llama.cpp test-backend-ops idea. Shapes are tiny (the emulator is slow) but leave
/// partial tiles, partial groups, rows longer than a group and Q8_0 rows of several blocks.
/// Tolerance: 1e-4 relative to the output's scale, from f32 accumulation order differences.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public class BackendOpsTests
{
    // As TransformerTests: 1e-4 of the logit scale; f32 accumulation order compounds over layers.
    private const float ForwardTolerance = 1e-4f;

    private readonly ReferenceComparison _check = new();

    public static TheoryData<string> Backends => RegisteredBackends.Cases();

    public static TheoryData<string, WeightFormat> BackendsAndFormats => RegisteredBackends.CasesWithFormats();

    private static IBackend Get(string name) => RegisteredBackends.Get(name);

    private float[] RandomArray(int n, float scale = 1f) => _check.RandomArray(n, scale);

    private void Compare(IBackend backend, float[][] inputs, Action<IBackend, Tensor[]> op, int checkIndex, float tolerance = 1e-4f,
        WeightMatrix? matrix = null) =>
        _check.Compare(backend, inputs, op, checkIndex, tolerance, matrix);

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance) =>
        ReferenceComparison.AssertClose(expected, actual, tolerance);

    // Rows of a block format are whole blocks: 32 weights, or 256 for the K-quants; 1 otherwise.
    private static int BlockWeights(WeightFormat format) => BlockFormats.IsBlockFormat(format) ? BlockFormats.BlockWeights(format) : 1;

    // Block formats multiply activations rounded to 8 bits (each within amax/254 of its value),
    // so their products differ from the f32 reference by up to ~1% of the output's scale.
    private static float MatMulTolerance(WeightFormat format) => BlockFormats.IsBlockFormat(format) ? 2e-2f : 1e-4f;

    [Theory, MemberData(nameof(BackendsAndFormats))]
    public void MatMulMatchesReference(string name, WeightFormat format)
    {
        // rows 1 takes the matrix-vector kernels; 2..6 the CPU's row-blocked GEMM and the device's
        // tiled kernel with partial tiles; 70 spans more than one CPU block of rows.
        (int, int, int)[] shapes = BlockWeights(format) switch
        {
            256 => [(1, 256, 13), (1, 512, 5), (3, 256, 17), (5, 512, 11), (9, 256, 7)],
            32 => [(1, 64, 13), (1, 96, 5), (3, 32, 17), (5, 64, 11), (9, 96, 7)],
            _ => [(1, 70, 13), (1, 8, 5), (2, 40, 36), (5, 33, 17), (9, 20, 11), (70, 48, 9)],
        };
        _check.CompareMatMul(Get(name), shapes, format, MatMulTolerance(format));
    }

    // A model loaded from a checkpoint hands its arrays over instead of copying them; the weights must compute the same.
    [Theory, MemberData(nameof(BackendsAndFormats))]
    public void AdoptedMatrixComputesAsAnUploadedOne(string name, WeightFormat format)
    {
        var b = Get(name);
        int rows = 7, cols = 64;
        float[] data = RandomArray(rows * cols), x = RandomArray(3 * cols);
        using var uploaded = b.UploadMatrix(data, rows, cols, format);
        using var adopted = b.AdoptMatrix((float[])data.Clone(), rows, cols, format);
        using var input = b.Upload(x);
        using var y1 = b.Allocate(3 * rows);
        using var y2 = b.Allocate(3 * rows);

        b.MatMul(input, 3, cols, uploaded, rows, null, y1);
        b.MatMul(input, 3, cols, adopted, rows, null, y2);

        float[] a1 = new float[3 * rows], a2 = new float[3 * rows];
        b.Download(y1, 0, a1);
        b.Download(y2, 0, a2);
        Assert.Equal(a1, a2);
        if (b is HostBackend && format == WeightFormat.F32)
        {
            var kept = new float[rows * cols];
            Assert.Same(kept, ((CpuTensor)b.AdoptMatrix(kept, rows, cols, format)).Data);
        }
    }

    [Theory, MemberData(nameof(BackendsAndFormats))]
    public void EmbedMatchesReference(string name, WeightFormat format)
    {
        var b = Get(name);
        int[] tokens = [3, 0, 7, 3];
        int dim = BlockWeights(format) switch { 256 => 256, 32 => 64, _ => 5 };
        Compare(b, [RandomArray(8 * dim), new float[tokens.Length * dim]], (be, t) => be.Embed(t[0], tokens, dim, t[1]), 1, 0f,
            new WeightMatrix(0, 8, dim, format));
    }

    [Theory, MemberData(nameof(Backends))]
    public void NormsMatchReference(string name)
    {
        var b = Get(name);
        foreach (var (rows, dim) in new[] { (1, 100), (3, 7), (7, 50) })
        {
            Compare(b, [RandomArray(rows * dim, 3f), RandomArray(dim), new float[rows * dim]],
                (be, t) => be.RmsNorm(t[0], t[1], rows, dim, 1e-5f, t[2]), 2);
            Compare(b, [RandomArray(rows * dim, 3f), RandomArray(dim), RandomArray(dim), new float[rows * dim]],
                (be, t) => be.LayerNorm(t[0], t[1], t[2], rows, dim, 1e-5f, t[3]), 3);
        }
    }

    [Theory, MemberData(nameof(Backends))]
    public void RopeMatchesReference(string name)
    {
        var b = Get(name);
        foreach (var (rows, heads, headDim, start, theta) in new[] { (1, 4, 16, 0, 10000f), (3, 2, 32, 37, 500000f), (2, 3, 8, 1000, 10000f) })
            Compare(b, [RandomArray(rows * heads * headDim)],
                (be, t) => be.Rope(t[0], rows, heads, headDim, start, theta), 0, 2e-4f);
    }

    [Theory, MemberData(nameof(Backends))]
    public void AttentionMatchesReferenceWithGroupedHeads(string name)
    {
        // Several query rows with startPos > 0, GQA and MQA, head dimensions on both sides of the
        // emulator's group size, and a context longer than one key block.
        _check.CompareAttention(Get(name), [(1, 0, 2, 2, 8), (3, 5, 4, 2, 8), (2, 70, 2, 1, 32), (1, 20, 4, 4, 4), (3, 10, 2, 2, 80)]);
    }

    [Theory, MemberData(nameof(Backends))]
    public void ElementwiseOpsMatchReference(string name)
    {
        var b = Get(name);
        foreach (int n in new[] { 1, 77, 1000 })
        {
            Compare(b, [RandomArray(n, 4f), RandomArray(n, 4f), new float[n]], (be, t) => be.SwiGlu(t[0], t[1], n, t[2]), 2);
            Compare(b, [RandomArray(n, 4f), RandomArray(n, 4f)], (be, t) => be.SwiGlu(t[0], t[1], n, t[1]), 1);
            Compare(b, [RandomArray(n, 4f), RandomArray(n, 4f)], (be, t) => be.SwiGlu(t[0], t[1], n, t[0]), 0);
            Compare(b, [RandomArray(n, 4f)], (be, t) => be.Gelu(t[0], n), 0);
            Compare(b, [RandomArray(n), RandomArray(n)], (be, t) => be.Add(t[0], t[1], n), 0);
        }
        Compare(b, [RandomArray(3 * 50, 8f)], (be, t) => be.Softmax(t[0], 3, 50), 0, 1e-5f);
        Compare(b, [RandomArray(2 * 50, 300f)], (be, t) => be.Softmax(t[0], 2, 50), 0, 1e-5f);
    }

    [Theory, MemberData(nameof(Backends))]
    public void DataMovementMatchesReference(string name)
    {
        var b = Get(name);
        Compare(b, [RandomArray(3 * 5), RandomArray(10 * 5)], (be, t) => be.AddRows(t[0], t[1], 4, 3, 5), 0);
        Compare(b, [RandomArray(4 * 6), RandomArray(10 * 6)], (be, t) => be.CopyRows(t[0], 1, t[1], 5, 3, 6), 1, 0f);
        Compare(b, [RandomArray(4 * 6)], (be, t) => be.CopyRows(t[0], 3, t[0], 0, 1, 6), 0, 0f);
    }

    [Theory, MemberData(nameof(Backends))]
    public void SamplingMeasuresTopPOnWhatTopKLeft(string name)
    {
        // The backend's own sampler and verifier where it has them (the logits stay on the device),
        // the host Sampler otherwise. After top-k 2 the first token holds 0.57 >= top-p 0.5, so it
        // is the only one kept: every uniform draws it, and a draft of token 1 always fails.
        var b = Get(name);
        var settings = TopKThenTopP.Settings;
        var host = new float[4];
        new Sampler(settings, 4, 0).Distribution(TopKThenTopP.Logits, host);
        Assert.Equal(TopKThenTopP.Expected, host);
        using var sampler = b.CreateSampler(settings);
        using var verifier = b.CreateVerifier();
        using var logits = b.Upload([.. TopKThenTopP.Logits, .. TopKThenTopP.Logits]);
        float[] q = [0.25f, 0.25f, 0.25f, 0.25f];
        foreach (double u in new[] { 0.0, 0.3, 0.55, 0.7, 0.999 })
        {
            Assert.Equal(0, sampler?.Sample(logits, 4, u) ?? Sampler.Draw(host, u));
            var verdict = verifier?.Verify(logits, 4, q, [1], [u, u], settings, 1f, LenienceFunction.Linear, new double[1])
                          ?? Verifier.Verify([.. host, .. host], q, [1], [u, u], 1f, LenienceFunction.Linear, new float[4]);
            Assert.Equal(new Verdict(0, 0), verdict);
        }
    }

    public static TheoryData<string, WeightFormat, string> ForwardCases
    {
        get
        {
            // Every architecture in f32; each stored format on the Llama shape with Qwen2's biases.
            var data = new TheoryData<string, WeightFormat, string>();
            foreach (var (name, format) in BackendsAndFormats.Select(row => ((string)row[0], (WeightFormat)row[1])))
                foreach (string model in format == WeightFormat.F32 ? ["llama-gqa", "qwen2-bias", "gpt2"] : new[] { "qwen2-bias" })
                    data.Add(name, format, model);
            return data;
        }
    }

    [Theory, MemberData(nameof(ForwardCases))]
    public void PromptThenDecodeStepsMatchReference(string name, WeightFormat format, string model)
    {
        // Blocks run along rows of 32 (256 for a K-quant, else it falls back): the MLP's down projection needs an intermediate size that is a multiple.
        int intermediate = BlockWeights(format) == 256 ? 256 : TinyModels.ByName(model).Architecture == Architecture.Gpt2 ? 128 : 64;
        var config = TinyModels.ByName(model) with { IntermediateSize = intermediate };
        var weights = ModelWeights.Random(config, seed: 7, std: 0.2f);
        int v = config.VocabSize;
        int[] prompt = TinyModels.RandomTokens(4, v, seed: 3), steps = TinyModels.RandomTokens(2, v, seed: 4);

        using var reference = new Transformer(config, weights, new ScalarBackend(), format);
        using var tested = new Transformer(config, weights, Get(name), format);
        using var referenceCache = reference.CreateCache(capacity: 16);
        using var testedCache = tested.CreateCache(capacity: 16);

        var expected = new float[prompt.Length * v];
        var actual = new float[prompt.Length * v];
        reference.Forward(prompt, 0, referenceCache, expected);
        tested.Forward(prompt, 0, testedCache, actual);
        float tolerance = BlockFormats.IsBlockFormat(format) ? 4 * MatMulTolerance(format) : ForwardTolerance;
        AssertClose(expected, actual, tolerance);

        for (int i = 0; i < steps.Length; i++)
        {
            int position = prompt.Length + i;
            reference.Forward(steps.AsSpan(i, 1), position, referenceCache, expected.AsSpan(0, v));
            tested.Forward(steps.AsSpan(i, 1), position, testedCache, actual.AsSpan(0, v));
            AssertClose(expected.AsSpan(0, v), actual.AsSpan(0, v), tolerance);
        }
        Assert.Equal(prompt.Length + steps.Length, testedCache.Length);
    }

    [Fact]
    public void EveryBackendThatOpensHereIsTested()
    {
        var names = RegisteredBackends.Names;
        Assert.Contains("cpu", names);
        Assert.Contains("ilgpu-cpu", names);
        // tools/gpu/check.sh names the device it expects, so a GPU that fails to open fails here instead of going untested.
        foreach (string expected in (Environment.GetEnvironmentVariable("DSPEC_EXPECT_DEVICES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            Assert.True(names.Contains(expected.Trim()),
                $"DSPEC_EXPECT_DEVICES names '{expected.Trim()}', which does not open here; opened: {string.Join(", ", names)}");
        foreach (string name in names)
            foreach (var format in new[] { WeightFormat.BF16, WeightFormat.Q8_0 })
                Assert.True(Get(name).Supports(format), $"{name} does not store {format} weights");
    }

    [Fact]
    public void ReferenceMatchesHandComputedValues()
    {
        var reference = new ScalarBackend();
        // y = x W^T + b with x = [1, 2], W = [[1, 0], [1, 1], [0, -1]], b = [0, 1, 2]
        var y = reference.Allocate(3);
        reference.MatMul(reference.Upload([1f, 2f]), 1, 2, reference.Upload([1f, 0f, 1f, 1f, 0f, -1f]), 3, reference.Upload([0f, 1f, 2f]), y);
        Assert.Equal([1f, 4f, 0f], ((CpuTensor)y).Data);

        // RoPE at position 1, headDim 2, theta irrelevant for i = 0: rotation by 1 radian.
        var x = reference.Upload([1f, 0f]);
        reference.Rope(x, 1, 1, 2, 1, 10000f);
        Assert.Equal(MathF.Cos(1f), ((CpuTensor)x).Data[0], 5);
        Assert.Equal(MathF.Sin(1f), ((CpuTensor)x).Data[1], 5);

        // RMSNorm of [3, 4] with unit gain: rms = sqrt(12.5).
        var n = reference.Allocate(2);
        reference.RmsNorm(reference.Upload([3f, 4f]), reference.Upload([1f, 1f]), 1, 2, 0f, n);
        Assert.Equal(3 / MathF.Sqrt(12.5f), ((CpuTensor)n).Data[0], 5);

        // GELU(1) with the tanh approximation.
        var g = reference.Upload([1f]);
        reference.Gelu(g, 1);
        Assert.Equal(0.841192f, ((CpuTensor)g).Data[0], 5);
    }
}
