using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec.Tests.Speculative;

public class VerifierTests
{
    private const int V = 4;

    private static Verdict Verify(float[][] p, float[][] q, int[] drafted, double[] uniforms, float lenience = 1f,
        LenienceFunction function = LenienceFunction.Linear) =>
        Verifier.Verify(p.SelectMany(r => r).ToArray(), q.SelectMany(r => r).ToArray(), drafted, uniforms, lenience, function, new float[V]);

    [Fact]
    public void AcceptsEveryDraftTheTargetAgreesWithThenDrawsTheBonusFromTheLastRow()
    {
        float[] a = [0.1f, 0.6f, 0.2f, 0.1f], bonus = [0.25f, 0.25f, 0.25f, 0.25f];
        // p >= q at each drafted token, so the ratio is 1 and even u close to 1 accepts.
        var verdict = Verify([a, a, bonus], [a, [0.1f, 0.5f, 0.3f, 0.1f]], [1, 1], [0.999, 0.999, 0.6]);
        Assert.Equal(new Verdict(2, Sampler.Draw(bonus, 0.6)), verdict);
        Assert.Equal(2, verdict.Next);
    }

    [Fact]
    public void RejectsTheFirstDraftWhenTheTargetGivesItNoMass()
    {
        float[] p = [0.5f, 0f, 0.5f, 0f], q = [0.25f, 0.25f, 0.25f, 0.25f];
        // u = 0 still rejects: u < ratio = 0 is false. Residual = [0.25, 0, 0.25, 0] / 0.5.
        var verdict = Verify([p, p], [q], [1], [0.0, 0.7]);
        Assert.Equal(new Verdict(0, 2), verdict);
    }

    [Fact]
    public void RejectsInTheMiddleAndReplacesFromThatPositionsResidual()
    {
        float[] same = [0.25f, 0.25f, 0.25f, 0.25f];
        float[] p2 = [0.4f, 0.3f, 0.2f, 0.1f], q2 = [0.1f, 0.1f, 0.5f, 0.3f];
        // Position 2 drafted token 2: ratio 0.2/0.5 = 0.4 < u = 0.5, so reject.
        // Residual max(0, p - q) / 0.5 = [0.6, 0.4, 0, 0]: u = 0.7 lands on token 1.
        var verdict = Verify([same, p2, same, same], [same, q2, same], [3, 2, 0], [0.9, 0.5, 0.0, 0.7]);
        Assert.Equal(new Verdict(1, 1), verdict);
        Assert.Equal(0, Verify([same, p2, same, same], [same, q2, same], [3, 2, 0], [0.9, 0.5, 0.0, 0.59]).Next);
        // Just under the ratio the same draft is accepted.
        Assert.Equal(3, Verify([same, p2, same, same], [same, q2, same], [3, 2, 0], [0.9, 0.399, 0.0, 0.7]).Accepted);
    }

    [Fact]
    public void ResidualIsThePositivePartOfPMinusQRenormalised()
    {
        var residual = new float[V];
        Verifier.Residual([0.4f, 0.3f, 0.2f, 0.1f], [0.1f, 0.1f, 0.5f, 0.3f], residual);
        Assert.Equal(new[] { 0.6f, 0.4f, 0f, 0f }, residual.Select(r => MathF.Round(r, 6)).ToArray());
        // p == q leaves nothing to renormalise; p is the only sensible fallback.
        Verifier.Residual([0.5f, 0.5f, 0f, 0f], [0.5f, 0.5f, 0f, 0f], residual);
        Assert.Equal(new[] { 0.5f, 0.5f, 0f, 0f }, residual);
    }

    [Fact]
    public void OnePositionIsLosslessOverManyUniforms()
    {
        // Draw y ~ q, verify, and the emitted token must be distributed as p. TVD of N draws over
        // 4 outcomes is <= 0.5 sqrt(4/N) = 0.0032 in expectation, and McDiarmid puts it more than
        // 0.005 above that with probability exp(-2 N 0.005^2) < 1e-10.
        float[] p = [0.5f, 0.1f, 0.3f, 0.1f], q = [0.1f, 0.5f, 0.2f, 0.2f];
        const int N = 400_000;
        var counts = new int[V];
        var rng = new Random(5);
        var residual = new float[V];
        for (int s = 0; s < N; s++)
        {
            int y = Sampler.Draw(q, rng.NextDouble());
            var verdict = Verifier.Verify([.. p, .. p], q, [y], [rng.NextDouble(), rng.NextDouble()], 1f, LenienceFunction.Linear, residual);
            counts[verdict.Accepted == 1 ? y : verdict.Next]++;
        }
        double tvd = 0.5 * counts.Select((c, t) => Math.Abs((double)c / N - p[t])).Sum();
        Assert.True(tvd < 0.0032 + 0.005, $"TVD {tvd}");
    }

    [Fact]
    public void GreedyAcceptsWhileTheArgmaxesAgreeAndReplacesWithTheTargetArgmax()
    {
        float[] at0 = [1, 0, 0, 0], at1 = [0, 1, 0, 0], at3 = [0, 0, 0, 1];
        foreach (double u in new[] { 0.0, 0.5, 0.999 })
        {
            Assert.Equal(new Verdict(1, 3), Verify([at0, at3, at1], [at0, at1], [0, 1], [u, u, u]));
            Assert.Equal(new Verdict(2, 1), Verify([at0, at1, at1], [at0, at1], [0, 1], [u, u, u]));
            // Lenience cannot rescue a token the one-hot target gives zero mass.
            Assert.Equal(new Verdict(0, 3), Verify([at3, at1], [at0], [0], [u, u], lenience: 0.1f));
        }
    }

    [Fact]
    public void LenienceScalesTheAcceptanceRatio()
    {
        Assert.Equal(0.5, Verifier.AcceptanceProbability(0.3f, 0.6f, 1f, LenienceFunction.Linear), 6);
        Assert.Equal(1.0, Verifier.AcceptanceProbability(0.3f, 0.6f, 0.5f, LenienceFunction.Linear), 6);
        Assert.Equal(0.625, Verifier.AcceptanceProbability(0.3f, 0.6f, 0.8f, LenienceFunction.Linear), 6);
        float[] p = [0.3f, 0.7f, 0f, 0f], q = [0.6f, 0.4f, 0f, 0f];
        Assert.Equal(0, Verify([p, p], [q], [0], [0.7, 0.5]).Accepted);
        Assert.Equal(1, Verify([p, p], [q], [0], [0.7, 0.5], lenience: 0.5f).Accepted);
    }

    [Theory]
    // p(y) = 0.16, q(y) = 0.64, eps = 0.5: f_lin = 0.32, f_sq = 0.64, f_exp = sqrt(0.16) = 0.4.
    [InlineData(LenienceFunction.Linear, 0.5)]
    [InlineData(LenienceFunction.Squared, 1.0)]
    [InlineData(LenienceFunction.Exponential, 0.625)]
    public void EachLenienceFunctionGivesItsAcceptanceProbability(LenienceFunction function, double expected)
    {
        Assert.Equal(expected, Verifier.AcceptanceProbability(0.16f, 0.64f, 0.5f, function), 6);
        // eps = 0.8 on p = 0.3, q = 0.6: 0.375 / 0.6, 0.46875 / 0.6, 0.3^0.8 / 0.6.
        double atEightTenths = function switch
        {
            LenienceFunction.Linear => 0.625,
            LenienceFunction.Squared => 0.78125,
            _ => Math.Exp(0.8 * Math.Log(0.3)) / 0.6,
        };
        Assert.Equal(atEightTenths, Verifier.AcceptanceProbability(0.3f, 0.6f, 0.8f, function), 6);
        // Lenience never rescues a token the target gives no mass, nor doubts one the draft gives none.
        Assert.Equal(0.0, Verifier.AcceptanceProbability(0f, 0.5f, 0.1f, function));
        Assert.Equal(1.0, Verifier.AcceptanceProbability(0.2f, 0f, 0.1f, function));

        // The verifier accepts exactly below that probability and replaces from the lossless residual
        // max(0, p - q) / Z = [0, 0.2, 0.6, 0] / 0.8 above it.
        float[] p = [0.16f, 0.2f, 0.6f, 0.04f], q = [0.64f, 0f, 0f, 0.36f];
        if (expected < 1.0) Assert.Equal(new Verdict(0, 2), Verify([p, p], [q], [0], [expected + 1e-6, 0.5], 0.5f, function));
        Assert.Equal(1, Verify([p, p], [q], [0], [expected - 1e-6, 0.5], 0.5f, function).Accepted);
    }

    [Fact]
    public void EveryLenienceFunctionAtOneIsStandardSpeculativeSampling()
    {
        var rng = new Random(11);
        var residual = new float[V];
        float[] Row()
        {
            var x = Enumerable.Range(0, V).Select(_ => (float)rng.NextDouble()).ToArray();
            float sum = x.Sum();
            return x.Select(v => v / sum).ToArray();
        }
        for (int c = 0; c < 200; c++)
        {
            float[] p = [.. Row(), .. Row(), .. Row()], q = [.. Row(), .. Row()];
            int[] drafted = [rng.Next(V), rng.Next(V)];
            double[] uniforms = [rng.NextDouble(), rng.NextDouble(), rng.NextDouble()];
            for (int i = 0; i < 2; i++)
            {
                float pi = p[i * V + drafted[i]], qi = q[i * V + drafted[i]];
                foreach (var function in Enum.GetValues<LenienceFunction>())
                    Assert.Equal(Math.Min(1.0, (double)pi / qi), Verifier.AcceptanceProbability(pi, qi, 1f, function), 12);
            }
            var standard = Verifier.Verify(p, q, drafted, uniforms, 1f, LenienceFunction.Linear, residual);
            foreach (var function in Enum.GetValues<LenienceFunction>())
                Assert.Equal(standard, Verifier.Verify(p, q, drafted, uniforms, 1f, function, residual));
        }
    }

    [Fact]
    public void OverlapIsOneMinusTotalVariation()
    {
        Assert.Equal(0.5, Verifier.Overlap([0.4f, 0.3f, 0.2f, 0.1f], [0.1f, 0.1f, 0.5f, 0.3f]), 6);
        Assert.Equal(1.0, Verifier.Overlap([0.5f, 0.5f, 0f, 0f], [0.5f, 0.5f, 0f, 0f]), 6);
    }

    [Fact]
    public void MismatchedShapesAreRejected()
    {
        var p = new float[2 * V];
        Assert.Throws<ArgumentException>(() => Verifier.Verify(p, new float[V], [0], [0.5], 1f, LenienceFunction.Linear, new float[V]));
        Assert.Throws<ArgumentException>(() => Verifier.Verify(p, new float[2 * V], [0], [0.5, 0.5], 1f, LenienceFunction.Linear, new float[V]));
    }
}
