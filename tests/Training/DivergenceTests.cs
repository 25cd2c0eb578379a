using DistillSpec.Training;

namespace DistillSpec.Tests.Training;

public class DivergenceTests
{
    public static TheoryData<string, float> Cases => new()
    {
        { "fkl", 1f }, { "rkl", 1f }, { "tvd", 1f }, { "jsd:0.1", 1f }, { "jsd:0.5", 1f }, { "jsd:0.9", 1f },
        { "fkl", 2f }, { "rkl", 0.5f }, { "jsd:0.5", 2f }, { "tvd", 2f },
    };

    // The definitions from docs/distillspec.md, written directly on probabilities.
    private static double Reference(string spec, double[] p, double[] q)
    {
        double Kl(double[] a, double[] b) => a.Select((x, i) => x > 0 ? x * Math.Log(x / b[i]) : 0).Sum();
        if (spec == "fkl") return Kl(p, q);
        if (spec == "rkl") return Kl(q, p);
        if (spec == "tvd") return 0.5 * p.Select((x, i) => Math.Abs(x - q[i])).Sum();
        double beta = double.Parse(spec[4..], System.Globalization.CultureInfo.InvariantCulture);
        var m = p.Select((x, i) => beta * x + (1 - beta) * q[i]).ToArray();
        return beta * Kl(p, m) + (1 - beta) * Kl(q, m);
    }

    private static double[] Softmax(double[] z, double temperature)
    {
        double max = z.Max();
        var e = z.Select(x => Math.Exp((x - max) / temperature)).ToArray();
        double s = e.Sum();
        return e.Select(x => x / s).ToArray();
    }

    [Theory, MemberData(nameof(Cases))]
    public void ValueAndGradientMatchTheDefinitionAndFiniteDifferences(string spec, float temperature)
    {
        int v = 11;
        var teacher = GradientCheck.ToDouble(GradientCheck.ToFloat(GradientCheck.Random(v, 1, 3)));
        var student = GradientCheck.ToDouble(GradientCheck.ToFloat(GradientCheck.Random(v, 2, 3)));
        var divergence = Divergence.Parse(spec);
        var gradient = new float[v];
        double value = divergence.Compute(GradientCheck.ToFloat(teacher), GradientCheck.ToFloat(student), temperature, gradient, 1f, new double[3 * v]);

        var p = Softmax(teacher, temperature);
        Assert.Equal(Reference(spec, p, Softmax(student, temperature)), value, 10);
        var numeric = GradientCheck.Numeric(() => Reference(spec, p, Softmax(student, temperature)), student, 1e-6);
        GradientCheck.AssertClose(numeric, gradient, 1e-5, spec);
    }

    [Theory]
    [InlineData("fkl")]
    [InlineData("rkl")]
    [InlineData("tvd")]
    [InlineData("jsd:0.3")]
    public void DivergenceAndGradientVanishWhenStudentEqualsTeacher(string spec)
    {
        var logits = GradientCheck.ToFloat(GradientCheck.Random(17, 4, 5));
        var gradient = new float[17];
        double value = Divergence.Parse(spec).Compute(logits, logits, 1f, gradient, 1f, new double[3 * 17]);
        Assert.True(Math.Abs(value) < 1e-12, $"{spec} = {value}");
        Assert.All(gradient, g => Assert.True(Math.Abs(g) < 1e-7, $"{spec} gradient {g}"));
    }

    [Fact]
    public void MeanScoresOnlyMaskedPositionsAndScalesTheirGradients()
    {
        int v = 9, rows = 4;
        var teacher = GradientCheck.ToFloat(GradientCheck.Random(rows * v, 5, 2));
        var student = GradientCheck.ToFloat(GradientCheck.Random(rows * v, 6, 2));
        bool[] mask = [false, true, true, false];
        var divergence = Divergence.Parse("rkl");
        var gradient = Enumerable.Repeat(9f, rows * v).ToArray();
        double mean = divergence.Mean(teacher, student, mask, v, 1f, gradient, threads: 2);

        var work = new double[3 * v];
        var row = new float[v];
        double expected = 0;
        for (int r = 1; r <= 2; r++)
        {
            expected += divergence.Compute(teacher.AsSpan(r * v, v), student.AsSpan(r * v, v), 1f, row, 0.5f, work);
            Assert.Equal(row, gradient.AsSpan(r * v, v).ToArray());
        }
        Assert.Equal(expected / 2, mean, 12);
        Assert.All(gradient.AsSpan(0, v).ToArray().Concat(gradient.AsSpan(3 * v, v).ToArray()), g => Assert.Equal(0f, g));
    }

    [Theory]
    [InlineData("fkl", "fkl")]
    [InlineData(" RKL ", "rkl")]
    [InlineData("jsd", "jsd:0.5")]
    [InlineData("jsd:0.25", "jsd:0.25")]
    [InlineData("tvd", "tvd")]
    public void ParsesTheCommandLineSpelling(string spec, string canonical) =>
        Assert.Equal(canonical, Divergence.Parse(spec).ToString());

    [Theory]
    [InlineData("kl")]
    [InlineData("jsd:1")]
    [InlineData("jsd:0")]
    [InlineData("jsd0.5")]
    public void RejectsUnknownOrOutOfRangeSpellings(string spec) =>
        Assert.Throws<FormatException>(() => Divergence.Parse(spec));
}
