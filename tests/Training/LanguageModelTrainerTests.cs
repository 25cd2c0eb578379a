using System.Text;
using DistillSpec.Data;
using DistillSpec.Models;
using DistillSpec.Tests.SafeTensors;
using DistillSpec.Training;

namespace DistillSpec.Tests.Training;

public class LanguageModelTrainerTests
{
    private static TrainSettings Setup(TempDirectory dir, int steps, int saveEvery = 0)
    {
        // Byte tokens of a short repeating text: a model that learns anything drops far below ln(257).
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 60)));
        var tokens = text.Select(b => (int)b).ToArray();
        TokenFile.Write(dir.File("train.bin"), tokens[..2200], new TokenFileHeader { VocabSize = 257 });
        TokenFile.Write(dir.File("val.bin"), tokens[2200..], new TokenFileHeader { VocabSize = 257 });
        return new TrainSettings
        {
            TrainData = dir.File("train.bin"), ValidationData = dir.File("val.bin"), Batch = 4, SeqLen = 24, Steps = steps,
            EvalEvery = 10, EvalBatches = 2, SaveEvery = saveEvery, Seed = 9,
            Optimizer = new OptimizerSettings { LearningRate = 3e-3f, WarmupSteps = 3 },
        };
    }

    private static ModelWeights Initial() => Initialization.Random(RandomModel.LlamaConfig(32, 2, 4, 2, 64, 257, context: 64), seed: 4);

    [Fact]
    public void TrainingLowersTheValidationLossAndWritesALoadableCheckpoint()
    {
        using var dir = new TempDirectory();
        using var trainer = LanguageModelTrainer.Create(Setup(dir, steps: 40), Initial(), dir.File("run"), threads: 2);
        float before = trainer.ValidationLoss();
        var rows = new List<MetricsRow>();
        trainer.Run(rows.Add);
        Assert.InRange(before, 5.2f, 5.9f);   // ~ln(257) at initialisation
        Assert.True(rows[^1].ValidationLoss < 3.5f, $"validation loss {before} -> {rows[^1].ValidationLoss}");
        Assert.Equal([10, 20, 30, 40], rows.Where(r => r.ValidationLoss is not null).Select(r => r.Step));
        var config = ModelConfig.Load(trainer.CheckpointDirectory);
        Assert.Equal(trainer.Model.Weights.Embedding, HfCheckpoint.Load(trainer.CheckpointDirectory, config).Embedding);
    }

    [Fact]
    public void AResumedRunEndsBitIdenticalToAnUninterruptedOne()
    {
        using var dir = new TempDirectory();
        var settings = Setup(dir, steps: 8, saveEvery: 4);
        float[][] straight;
        using (var t = LanguageModelTrainer.Create(settings, Initial(), dir.File("a"), threads: 2))
        {
            t.Run();
            straight = t.Model.Weights.Parameters().Select(p => p.Data).ToArray();
        }
        using (var t = LanguageModelTrainer.Create(settings, Initial(), dir.File("b"), threads: 1))
            t.Run(stopAt: 4);
        using (var t = LanguageModelTrainer.Resume(dir.File("b"), threads: 2))
        {
            t.Run();
            var resumed = t.Model.Weights.Parameters().Select(p => p.Data).ToArray();
            for (int i = 0; i < straight.Length; i++) Assert.Equal(straight[i], resumed[i]);
        }
    }
}
