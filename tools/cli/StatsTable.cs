using System.Globalization;
using DistillSpec.Speculative;
using Spectre.Console;

namespace DistillSpec.Cli;

/// <summary>The measures of one speculative run as a Spectre table, named as in docs/distillspec.md.</summary>
internal static class StatsTable
{
    public static Table Create(SpeculativeStats s)
    {
        var table = new Table().AddColumn("measure").AddColumn(new TableColumn("value").RightAligned()).AddColumn("meaning");
        void Row(string name, string value, string meaning) => table.AddRow(Markup.Escape(name), Markup.Escape(value), Markup.Escape(meaning));

        Row("tokens", $"{s.Emitted}", "emitted by speculative decoding");
        Row("target calls", $"{s.TargetCalls}", "verification passes");
        Row("drafted / accepted", $"{s.Drafted} / {s.AcceptedDrafts}", "draft tokens proposed / kept");
        Row("mean gamma", F(s.MeanGamma), $"drafts per round (max {s.GammaMax})");
        Row("alpha", F(s.Alpha), "mean 1 - TVD(p, q) over verified positions");
        Row("acceptance", F(s.EmpiricalAcceptance), "accepted / drafted");
        Row("tau", F(s.BlockEfficiency), "tokens per target call");
        Row("tau (theory)", F(s.TheoreticalBlockEfficiency), "(1 - alpha^(gamma+1)) / (1 - alpha)");
        Row("draft step", Ms(s.DraftStepTime), "one draft forward pass");
        Row("target verify call", Ms(s.TargetCallTime), "one target pass over gamma+1 tokens");
        if (s.Baseline is { } b)
        {
            string source = b.Estimated ? "estimated: calibrated target step x tokens" : "same prompt and settings";
            Row("target step", Ms(b.StepTime), b.Estimated ? "one target token, calibrated at load" : "one target token, target-only decoding");
            Row("c", F(s.CostRatio!.Value), "draft step / target step");
            Row("MBSU", F(s.MemoryBoundSpeedup!.Value), "tau / (c gamma + 1)");
            Row("speculative", $"{s.TokensPerSecond:F1} tok/s", "prefill + decode");
            Row("target only", $"{b.TokensPerSecond:F1} tok/s", $"{b.Tokens} tokens, {source}");
            Row("speed-up", F(s.Speedup!.Value) + "x", b.Estimated ? "speculative / target only (estimated)" : "wall clock, speculative / target only");
        }
        Row("acceptance by position", ByPosition(s), "share of drafts at position 1..gamma accepted");
        return table;
    }

    public static string ByPosition(SpeculativeStats s) =>
        string.Join(" ", Enumerable.Range(1, s.GammaMax).Select(i => s.DraftedAt[i - 1] == 0 ? "-" : F(s.AcceptanceAt(i))));

    public static string F(double x) => double.IsFinite(x) ? x.ToString("F2", CultureInfo.InvariantCulture) : "-";

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:F3} ms";
}
