using DistillSpec.Data;
using DistillSpec.Models;
using DistillSpec.Tests.SafeTensors;
using DistillSpec.Training;

namespace DistillSpec.Tests.Training;

public class DistillerTests
{
    private const int Vocab = 32;

    private static ModelConfig Config(int hidden, int layers) => new()
    {
        Architecture = Architecture.Llama, ArchitectureName = "LlamaForCausalLM", VocabSize = Vocab, HiddenSize = hidden,
        IntermediateSize = 2 * hidden, Layers = layers, Heads = 4, KvHeads = 2, HeadDim = hidden / 4, MaxPositions = 64,
        NormEps = 1e-5f, RopeTheta = 10000f, TiedEmbeddings = true,
    };

    /// <summary>
    /// A sharp random target, a freshly initialised (near-uniform) draft of the same shape, so the
    /// draft can represent the target and a few dozen steps show, and random token files.
    /// </summary>
    private static DistillSettings Setup(TempDirectory dir, string divergence, string source, int steps, int saveEvery = 0)
    {
        HfCheckpoint.Save(ModelWeights.Random(Config(16, 1), seed: 1, std: 0.3f), dir.File("target"));
        HfCheckpoint.Save(Initialization.Random(Config(16, 1), seed: 2), dir.File("draft"));
        var rng = new Random(3);
        TokenFile.Write(dir.File("train.bin"), Enumerable.Range(0, 4000).Select(_ => rng.Next(Vocab)).ToArray(), new TokenFileHeader { VocabSize = Vocab });
        TokenFile.Write(dir.File("val.bin"), Enumerable.Range(0, 1000).Select(_ => rng.Next(Vocab)).ToArray(), new TokenFileHeader { VocabSize = Vocab });
        return new DistillSettings
        {
            TargetModel = dir.File("target"), DraftModel = dir.File("draft"), TrainData = dir.File("train.bin"), ValidationData = dir.File("val.bin"),
            Divergence = divergence, Source = source, PromptLength = 6, ContinuationLength = 10, Batch = 4, Steps = steps,
            EvalEvery = 0, EvalPrompts = 12, SaveEvery = saveEvery, Seed = 5,
            Optimizer = new OptimizerSettings { LearningRate = 1e-2f, WarmupSteps = 2, WeightDecay = 0f },
        };
    }

    [Theory]
    [InlineData("fkl", "student")]
    [InlineData("tvd", "teacher")]
    [InlineData("jsd:0.5", "fixed")]
    public void ShortDistillationLowersTheDivergenceAndRaisesAcceptance(string divergence, string source)
    {
        using var dir = new TempDirectory();
        using var distiller = Distiller.Create(Setup(dir, divergence, source, steps: 60), dir.File("run"), threads: 2);
        var before = distiller.Evaluate();
        distiller.Run();
        var after = distiller.Evaluate();
        // Measured: the divergence falls to 0.7-0.8 of its start and alpha (T = 1) rises by 0.05-0.09.
        // Greedy alpha over 120 positions is too coarse to assert on.
        Assert.True(after.Divergence < 0.9 * before.Divergence, $"{divergence}: {before.Divergence} -> {after.Divergence}");
        Assert.True(after.AlphaSampled > before.AlphaSampled + 0.03, $"alpha (T=1): {before.AlphaSampled} -> {after.AlphaSampled}");
        var log = File.ReadAllLines(distiller.MetricsPath);
        Assert.Equal(MetricsLog.Header, log[0]);
        Assert.Equal(62, log.Length);   // header, the step-0 baseline, 60 steps
        Assert.True(File.Exists(Path.Combine(distiller.CheckpointDirectory, "model.safetensors")));
    }

    [Fact]
    public void AResumedRunEndsBitIdenticalToAnUninterruptedOne()
    {
        using var dir = new TempDirectory();
        var settings = Setup(dir, "jsd:0.3", "mix:0.3,0.3,0.4", steps: 6, saveEvery: 3);
        float[][] straight;
        float lastLoss;
        using (var d = Distiller.Create(settings, dir.File("straight"), threads: 2))
        {
            MetricsRow? last = null;
            d.Run(r => last = r);
            straight = d.Student.Weights.Parameters().Select(p => p.Data).ToArray();
            lastLoss = last!.Loss!.Value;
        }
        using (var d = Distiller.Create(settings, dir.File("resumed"), threads: 1))
            d.Run(stopAt: 3);
        using (var d = Distiller.Resume(dir.File("resumed"), threads: 2))
        {
            Assert.Equal(3, d.Step);
            MetricsRow? last = null;
            d.Run(r => last = r);
            Assert.Equal(lastLoss, last!.Loss!.Value);
            var resumed = d.Student.Weights.Parameters().Select(p => p.Data).ToArray();
            for (int i = 0; i < straight.Length; i++) Assert.Equal(straight[i], resumed[i]);
        }
        static IEnumerable<string> Losses(string path) => File.ReadLines(path).Select(l => string.Join(',', l.Split(',').Take(5)));
        Assert.Equal(Losses(dir.File("straight/metrics.csv")), Losses(dir.File("resumed/metrics.csv")));
    }

    [Fact]
    public void MismatchedVocabulariesAreAClearError()
    {
        using var dir = new TempDirectory();
        var settings = Setup(dir, "fkl", "fixed", steps: 1);
        HfCheckpoint.Save(Initialization.Random(Config(16, 1) with { VocabSize = Vocab + 1 }, seed: 2), dir.File("draft"));
        var e = Assert.Throws<ArgumentException>(() => Distiller.Create(settings, dir.File("run"), 1));
        Assert.Contains("vocabulary", e.Message);
    }
}
