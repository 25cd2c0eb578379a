using DistillSpec.Backends;
using DistillSpec.Data;
using DistillSpec.Models;
using DistillSpec.Tests.SafeTensors;
using DistillSpec.Training;

namespace DistillSpec.Tests.Training;

public class DataTests
{
    [Fact]
    public void LoaderVisitsEveryWindowOncePerEpochAndResumesFromItsCursor()
    {
        int[] tokens = Enumerable.Range(0, 41).ToArray();
        var loader = new WindowLoader(tokens, length: 5, stride: 4, seed: 3);
        Assert.Equal(10, loader.Windows);
        var window = new int[5];
        var firstEpoch = new List<int>();
        for (int i = 0; i < 10; i++)
        {
            loader.Next(window);
            Assert.Equal(Enumerable.Range(window[0], 5), window);
            firstEpoch.Add(window[0] / 4);
        }
        Assert.Equal(Enumerable.Range(0, 10), firstEpoch.Order());
        Assert.NotEqual(Enumerable.Range(0, 10), firstEpoch);

        for (int i = 0; i < 3; i++) loader.Next(window);
        var cursor = loader.Cursor;
        Assert.Equal(new DataCursor(1, 3), cursor);
        var expected = new int[5 * 9];
        loader.Next(9, expected);
        var restored = new WindowLoader(tokens, 5, 4, seed: 3);
        restored.Seek(cursor);
        var actual = new int[5 * 9];
        restored.Next(9, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void JsonlPromptsBecomeFixedLengthPromptContinuationWindows()
    {
        using var dir = new TempDirectory();
        var config = RandomModel.LlamaConfig(32, 1, 4, 2, 64, 257, context: 32);
        RandomModel.Create(dir.File("model"), config, seed: 1);
        File.WriteAllLines(dir.File("p.jsonl"),
        [
            "{\"prompt\": \"abcdef\", \"reference\": \"XYZ!\"}",
            "{\"prompt\": \"ab\", \"reference\": \"long enough\"}",
            "{\"prompt\": \"0123456789\", \"reference\": \"Q\"}",
        ]);
        // Byte-level tokens: ids are the bytes. Prompts keep their last 4, references their first 3.
        var fixedData = DistillationData.Load(dir.File("p.jsonl"), dir.File("model"), 4, 3, needReference: true, out int skipped);
        Assert.Equal("cdefXYZ", string.Concat(fixedData.Select(t => (char)t)));
        Assert.Equal(2, skipped);
        var promptsOnly = DistillationData.Load(dir.File("p.jsonl"), dir.File("model"), 4, 3, needReference: false, out skipped);
        Assert.Equal(1, skipped);
        Assert.Equal([.. "cdefXYZ6789Q".Select(c => (int)c), 0, 0], promptsOnly);
    }

    [Fact]
    public void RngStateRestoresTheStream()
    {
        var rng = new TrainingRng(42);
        rng.NextULong();
        var state = rng.State;
        var expected = Enumerable.Range(0, 5).Select(_ => rng.NextDouble()).ToArray();
        var other = new TrainingRng(1) { State = state };
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => other.NextDouble()));
    }

    [Theory]
    [InlineData("fixed", 1, 0, 0)]
    [InlineData("student", 0, 0, 1)]
    [InlineData("mix:1,1,2", 0.25, 0.25, 0.5)]
    public void DataSourcesParseToNormalisedWeights(string spec, double f, double t, double s) =>
        Assert.Equal(new DataSourceMix(f, t, s), DataSourceMix.Parse(spec));

    [Fact]
    public void AMixDrawsEachSourceInProportion()
    {
        var mix = DataSourceMix.Parse("mix:0.5,0,0.5");
        var rng = new TrainingRng(7);
        var counts = Enumerable.Range(0, 2000).Select(_ => mix.Choose(rng)).GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
        Assert.False(counts.ContainsKey(SequenceSource.Teacher));
        Assert.InRange(counts[SequenceSource.Fixed], 900, 1100);
        Assert.Throws<FormatException>(() => DataSourceMix.Parse("mix:1,2"));
        Assert.Throws<FormatException>(() => DataSourceMix.Parse("teachers"));
    }

    [Fact]
    public void ACheckpointIsALoadableModelDirectoryAndSurvivesAnInterruptedSwap()
    {
        using var dir = new TempDirectory();
        var config = RandomModel.LlamaConfig(32, 1, 4, 2, 64, 257, context: 32);
        var weights = ModelWeights.Random(config, 1);
        var adam = new AdamW(config, new OptimizerSettings());
        string path = dir.File("checkpoint");
        Checkpoint.Save(path, weights, adam, "{\"step\": 1}", tokenizerSource: null);
        Checkpoint.Save(path, weights, adam, "{\"step\": 2}", tokenizerSource: path);
        Assert.Equal(2, (int)Checkpoint.ReadState<System.Text.Json.Nodes.JsonObject>(path)["step"]!);
        using (var model = LanguageModel.Load(path, new SimdBackend(1)))
            Assert.Equal(257, model.Tokenizer.VocabSize);

        // A kill between the two renames leaves only NAME.old-*; resolving puts it back.
        Directory.Move(path, path + ".old-1234");
        Directory.CreateDirectory(path + ".tmp-5678");
        Assert.Equal(Path.GetFullPath(path), Checkpoint.Resolve(path));
        Assert.Equal(2, (int)Checkpoint.ReadState<System.Text.Json.Nodes.JsonObject>(path)["step"]!);
        Checkpoint.Save(path, weights, adam, "{\"step\": 3}", path);
        Assert.Equal([Path.GetFullPath(path)], Directory.GetDirectories(dir.Path).Select(Path.GetFullPath));
    }
}
