using System.Globalization;

namespace DistillSpec.Training;

public enum SequenceSource { Fixed, Teacher, Student }

/// <summary>
/// Where a distillation batch's continuations come from, as probabilities over (fixed, teacher,
/// student). Spelled fixed | teacher | student | mix:F,T,S (weights, normalised; e.g.
/// mix:0.5,0,0.5 is half dataset continuations, half on-policy). Each batch draws one source.
/// </summary>
public sealed record DataSourceMix(double Fixed, double Teacher, double Student)
{
    public static DataSourceMix Parse(string spec)
    {
        string s = spec.Trim().ToLowerInvariant();
        switch (s)
        {
            case "fixed": return new(1, 0, 0);
            case "teacher": return new(0, 1, 0);
            case "student": return new(0, 0, 1);
        }
        if (!s.StartsWith("mix:", StringComparison.Ordinal))
            throw new FormatException($"unknown data source '{spec}'; use fixed, teacher, student or mix:F,T,S");
        var parts = s[4..].Split(',');
        var w = new double[3];
        if (parts.Length != 3 || !parts.Select((p, i) => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out w[i])).All(ok => ok))
            throw new FormatException($"data source '{spec}': write mix:F,T,S with three weights for fixed, teacher, student");
        if (w.Any(x => !(x >= 0)) || w.Sum() <= 0) throw new FormatException($"data source '{spec}': weights must be >= 0 and not all zero");
        double total = w.Sum();
        return new(w[0] / total, w[1] / total, w[2] / total);
    }

    public bool IsSingle => new[] { Fixed, Teacher, Student }.Count(x => x > 0) == 1;

    /// <summary>The source for one batch; a single source draws no random number, so it leaves the RNG stream alone.</summary>
    public SequenceSource Choose(TrainingRng rng)
    {
        if (IsSingle) return Fixed > 0 ? SequenceSource.Fixed : Teacher > 0 ? SequenceSource.Teacher : SequenceSource.Student;
        double u = rng.NextDouble();
        return u < Fixed ? SequenceSource.Fixed : u < Fixed + Teacher ? SequenceSource.Teacher : SequenceSource.Student;
    }

    public override string ToString() => (Fixed, Teacher, Student) switch
    {
        (1, 0, 0) => "fixed",
        (0, 1, 0) => "teacher",
        (0, 0, 1) => "student",
        _ => string.Create(CultureInfo.InvariantCulture, $"mix:{Fixed:G4},{Teacher:G4},{Student:G4}"),
    };
}
