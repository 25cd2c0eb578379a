using DistillSpec.Generation;
using DistillSpec.Speculative;

namespace DistillSpec.Tests.Facade;

public sealed class ShippedPairFixture : IDisposable
{
    public SpeculativePair Pair { get; } = SpeculativePair.Load(ShippedWeights.Target, ShippedWeights.Draft,
        new SpeculativePairOptions { Target = new ModelOptions { Device = "cpu", Threads = 1 } });

    public void Dispose() => Pair.Dispose();
}

public class SpeculativePairTests(ShippedPairFixture fixture) : IClassFixture<ShippedPairFixture>
{
    private readonly SpeculativePair _pair = fixture.Pair;
    private static readonly GenerationOptions Greedy = new() { MaxTokens = 40, Temperature = 0, IgnoreEndOfSequence = true };

    [Fact]
    public void LoadingSharesOneCpuBackendAndCalibratesBothModels()
    {
        Assert.Same(_pair.Target.Backend, _pair.Draft.Backend);
        Assert.Contains("draft on the same backend", _pair.Devices);
        var calibration = Assert.IsType<DecodeCalibration>(_pair.Calibration);
        Assert.True(calibration.TargetStep > TimeSpan.Zero && calibration.DraftStep > TimeSpan.Zero);
        Assert.InRange(calibration.CostRatio, 0.001, 1.0);
    }

    [Fact]
    public async Task GreedySpeculationIsExactlyTheTargetsTextAndLabelsEveryToken()
    {
        var alone = await _pair.Target.CompleteAsync("def read_config(path):", Greedy);
        var fast = await _pair.CompleteAsync("def read_config(path):", Greedy);
        Assert.Equal(alone.TokenIds, fast.TokenIds);
        Assert.Equal(alone.Text, fast.Text);

        var stats = Assert.IsType<SpeculativeStats>(fast.Stats.Speculative);
        Assert.Equal(stats.AcceptedDrafts, fast.Origins.Count(o => o == TokenOrigin.AcceptedDraft));
        Assert.Equal(stats.TargetCalls, fast.Origins.Count(o => o != TokenOrigin.AcceptedDraft));
        Assert.Contains(TokenOrigin.AcceptedDraft, fast.Origins);
        Assert.Contains(fast.Origins, o => o is TokenOrigin.Correction or TokenOrigin.Bonus);
    }

    [Fact]
    public async Task FinalStatsAreAlwaysComplete()
    {
        var estimated = (await _pair.CompleteAsync("import os", Greedy)).Stats.Speculative!;
        Assert.NotNull(estimated.CostRatio);
        Assert.NotNull(estimated.MemoryBoundSpeedup);
        Assert.NotNull(estimated.Speedup);
        Assert.True(estimated.Baseline!.Estimated);
        Assert.Contains("estimated from the calibrated target step", estimated.ToString());
        Assert.DoesNotContain("System.Int32[]", estimated.ToString());

        var measured = (await _pair.CompleteAsync("import os", Greedy with { MeasureBaseline = true })).Stats.Speculative!;
        Assert.False(measured.Baseline!.Estimated);
        Assert.Equal(Greedy.MaxTokens, measured.Baseline.Tokens);
        Assert.Contains("(measured)", measured.ToString());
    }

    [Fact]
    public async Task SampledSpeculationRepeatsWithTheSameSeed()
    {
        var sampled = new GenerationOptions { MaxTokens = 32, Temperature = 1, Seed = 7 };
        var speculation = new SpeculativeOptions { DraftMax = 3 };
        var first = await _pair.CompleteAsync("class Parser:", sampled, speculation);
        var second = await _pair.CompleteAsync("class Parser:", sampled, speculation);
        Assert.Equal(first.TokenIds, second.TokenIds);
        Assert.Equal(first.Origins, second.Origins);
    }

    [Fact]
    public async Task ConcurrentCallsOnThePairAndItsModelsMatchSequentialOnes()
    {
        string[] prompts = ["def main():", "import sys", "class A:", "for i in range(", "# read the file", "return", "if x:", "with open("];
        Task<Completion> Call(int i, string p) => i % 2 == 0 ? _pair.CompleteAsync(p, Greedy) : _pair.Target.CompleteAsync(p, Greedy);
        var sequential = new List<Completion>();
        for (int i = 0; i < prompts.Length; i++) sequential.Add(await Call(i, prompts[i]));

        var concurrent = await Task.WhenAll(prompts.Select((p, i) => Task.Run(() => Call(i, p))));
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(sequential[i].TokenIds, concurrent[i].TokenIds);
    }

    [Fact]
    public void AMismatchedDraftIsRefusedAtLoad()
    {
        var error = Assert.Throws<VocabularyMismatchException>(() => SpeculativePair.Load(ShippedWeights.Target, ShippedWeights.Tiny,
            new SpeculativePairOptions { Target = new ModelOptions { Device = "cpu", Threads = 1 }, WarmUp = false }));
        Assert.Contains("do not share a vocabulary", error.Message);
    }

    [Fact]
    public async Task BadSpeculativeOptionsAreRejected() =>
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _pair.CompleteAsync("x", Greedy, new SpeculativeOptions { Lenience = 0 }));
}
