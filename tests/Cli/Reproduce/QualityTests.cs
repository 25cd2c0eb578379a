using DistillSpec.Cli.Reproduce;

namespace DistillSpec.Tests.Cli.Reproduce;

public class QualityTests
{
    [Fact]
    public void From_PairsEachPromptWithTargetOnly_SoPromptDifficultyCancels()
    {
        // Prompts of very different difficulty, each lossy output 0.1 nats worse than target-only's.
        double[] targetOnly = [1.0, 3.0, 5.0, 7.0];
        double[] lossy = [1.1, 3.1, 5.1, 7.1];

        var q = Quality.From(lossy, targetOnly);

        Assert.Equal(4, q.Samples);
        Assert.Equal(4.1, q.Nll, 12);
        // sd of [1.1, 3.1, 5.1, 7.1] is sqrt(20/3); the half-width is 1.96 sd / sqrt(4).
        Assert.Equal(1.96 * Math.Sqrt(20.0 / 3) / 2, q.NllHalfWidth, 12);
        Assert.Equal(0.1, q.Delta, 12);
        Assert.Equal(0.0, q.DeltaHalfWidth, 12);
    }

    [Fact]
    public void From_OneSample_HasNoInterval() =>
        Assert.True(double.IsNaN(Quality.From([2.0], [1.0]).DeltaHalfWidth));
}
