using System.Globalization;
using DistillSpec.IO;

namespace DistillSpec.Training;

/// <summary>One logged step; fields that were not measured at that step stay null (empty in the CSV).</summary>
public sealed record MetricsRow
{
    public required int Step { get; init; }
    public required int TotalSteps { get; init; }
    public float? Loss { get; init; }
    public float? ValidationLoss { get; init; }
    public float? LearningRate { get; init; }
    public float? GradNorm { get; init; }
    public double? TokensPerSecond { get; init; }
    public double? GflopsPerSecond { get; init; }
    public double ElapsedSeconds { get; init; }
    public string? Source { get; init; }
    public double? AlphaGreedy { get; init; }
    public double? AlphaSampled { get; init; }
    public double? EvalDivergence { get; init; }
}

/// <summary>
/// The curves of a run as CSV (metrics.csv in the run directory). On resume, rows past the
/// checkpoint's step are dropped first, so the file reads as one uninterrupted run.
/// </summary>
public sealed class MetricsLog
{
    public const string Header = "step,loss,val_loss,lr,grad_norm,tokens_per_s,gflop_per_s,elapsed_s,source,alpha_greedy,alpha_t1,eval_divergence";

    public MetricsLog(string path, int? resumeStep)
    {
        Path = path;
        var kept = new List<string> { Header };
        if (resumeStep is int step && File.Exists(path))
            kept.AddRange(File.ReadLines(path).Skip(1).Where(line =>
                int.TryParse(line.Split(',')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) && s <= step));
        AtomicFile.WriteAllText(path, string.Join('\n', kept) + "\n");
    }

    public string Path { get; }

    public void Append(MetricsRow r)
    {
        static string F(double? v, string format) => v is double d ? d.ToString(format, CultureInfo.InvariantCulture) : "";
        string line = string.Join(',',
            r.Step.ToString(CultureInfo.InvariantCulture), F(r.Loss, "G6"), F(r.ValidationLoss, "G6"), F(r.LearningRate, "G6"),
            F(r.GradNorm, "G5"), F(r.TokensPerSecond, "F1"), F(r.GflopsPerSecond, "F2"), F(r.ElapsedSeconds, "F2"), r.Source ?? "",
            F(r.AlphaGreedy, "F4"), F(r.AlphaSampled, "F4"), F(r.EvalDivergence, "G6"));
        File.AppendAllText(Path, line + "\n");
    }
}
