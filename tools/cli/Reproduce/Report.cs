using System.Globalization;
using System.Text;
using System.Text.Json;
using DistillSpec.Cli.Plot;
using DistillSpec.Models;

namespace DistillSpec.Cli.Reproduce;

/// <summary>Turns the measured cells into the markdown report, its JSON and the PNG plots.</summary>
internal sealed class Report(ReproduceCommand.Settings s, List<DraftEntry> drafts, List<(string Name, LanguageModel Model)> models,
    List<Cell> cells, (double Nll, int Samples) targetOnly, TimeSpan elapsed)
{
    private static readonly float[] Temperatures = [0f, 1f];
    private static string F(double? x, string format = "F2") => x is double v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
    private static string Pct(double x) => double.IsFinite(x) ? (x >= 0 ? "+" : "") + (100 * x).ToString("F0", CultureInfo.InvariantCulture) + "%" : "-";
    private static string Signed(double x) => (x >= 0 ? "+" : "") + x.ToString("F3", CultureInfo.InvariantCulture);
    private static string TempName(float t) => t == 0 ? "greedy (T = 0)" : $"T = {t.ToString(CultureInfo.InvariantCulture)}";

    private IEnumerable<Cell> Lossless(string task, string draft, float t) =>
        cells.Where(c => c.Task == task && c.Draft == draft && c.Temperature == t && c.Lenience == 1f);

    // The draft's cell at its best gamma.
    private Cell Best(string task, string draft, float t) => Lossless(task, draft, t).MaxBy(c => c.Speedup)!;

    private double BestSpeedup(string task, string draft, float t) => Best(task, draft, t).Speedup;

    // Paired: each prompt's speed-up with the draft over its speed-up with the plain draft (each at its
    // best gamma), median over prompts. Both were measured on the same prompt a few seconds apart, so
    // this cancels the prompts' own spread and the machine's drift, which a ratio of two medians keeps.
    private double Improvement(string task, string draft, float t) =>
        Measurement.Median(Best(task, draft, t).PromptSpeedups.Zip(Best(task, DraftCatalog.PlainName, t).PromptSpeedups, (d, p) => d / p)) - 1;

    private double MeanAlpha(string task, string draft, float t) => Lossless(task, draft, t).Average(c => c.Stats.Alpha);

    // Accepted drafts over all drafted positions, those after a rejection included: under greedy decoding
    // it sits below alpha, which counts only the positions whose acceptance test ran.
    private double MeanAcceptance(string task, string draft, float t) => Lossless(task, draft, t).Average(c => c.Stats.EmpiricalAcceptance);

    // tau depends on acceptance only, not on machine load: the noise-free half of the comparison.
    private double TauGain(string task, string draft, float t) =>
        s.Gammas.Average(g => Lossless(task, draft, t).Single(c => c.Gamma == g).Stats.BlockEfficiency
                              / Lossless(task, DraftCatalog.PlainName, t).Single(c => c.Gamma == g).Stats.BlockEfficiency) - 1;

    /// <summary>One row per (task, temperature, distilled draft): its gain over the plain draft.</summary>
    private IEnumerable<(string Task, float T, DraftEntry Draft, double Gain, double TauGain, double AlphaPlain, double Alpha)> Comparisons() =>
        from task in s.Tasks.Select(x => x.Task)
        from t in Temperatures
        from d in drafts.Where(d => !d.Plain)
        select (task, t, d, Improvement(task, d.Name, t), TauGain(task, d.Name, t),
            MeanAlpha(task, DraftCatalog.PlainName, t), MeanAlpha(task, d.Name, t));

    public IEnumerable<string> Verdicts()
    {
        var rows = Comparisons().ToList();
        foreach (float t in Temperatures)
        {
            var inDomain = rows.Where(r => r.T == t && r.Draft.DistilledOn == r.Task).ToList();
            var transfer = rows.Where(r => r.T == t && r.Draft.DistilledOn != r.Task).ToList();
            if (inDomain.Count > 0)
            {
                var best = inDomain.MaxBy(r => r.Gain);
                yield return $"{TempName(t)}, in-domain: best DistillSpec draft {best.Draft.Name} on {best.Task} changes the best wall-clock speed-up by {Pct(best.Gain)} over the plain draft " +
                             (best.Gain >= 0.15 ? "(meets the +15% bar)" : "(below the +15% bar)") + ".";
            }
            if (transfer.Count > 0)
            {
                var best = transfer.MaxBy(r => r.Gain);
                yield return $"{TempName(t)}, transfer: best {best.Draft.Name} on {best.Task}: {Pct(best.Gain)} speed-up over the plain draft " +
                             (best.Gain > 0 ? "(positive)" : "(not positive)") + ".";
            }
        }
        int rising = rows.Count(r => r.Alpha > r.AlphaPlain);
        yield return $"alpha rises over the plain draft in {rising} of {rows.Count} (task, temperature, distilled draft) cases.";
    }

    public void Write()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(s.Output))!);
        string stem = Path.GetFileName(s.Output);
        var md = new StringBuilder();
        md.AppendLine("# DistillSpec reproduction").AppendLine();
        md.AppendLine($"Generated by `dotnet run --project tools/cli -c Release -- reproduce` in {elapsed.TotalMinutes:F1} min on {Environment.ProcessorCount} cores, " +
                      $"{s.Threads} target threads and 1 draft thread, CPU SIMD backend, f32 target weights, {s.DraftFormat.ToString().ToLowerInvariant()} draft weights. Each cell: the first {s.PromptCount} prompts of the task's held-out set, which make-prompts orders one per document before any document's second, " +
                      $"(`data/prompts/`), {s.Tokens} tokens each, seed {s.Seed}, no top-k/top-p. The speed-up is wall-clock, measured warm: each decoder first runs target-only and " +
                      "speculative decoding of its first prompt untimed until their times settle, then times every prompt three times each in the order target-only, speculative, " +
                      "speculative, target-only, target-only, speculative, so drifting load falls on both sides alike, and takes each side's fastest run " +
                      "(every run of a side decodes the same tokens; noise only adds time). The drafts of a setting (task, temperature, gamma) take turns " +
                      "on each prompt, so the machine's drift over the minutes a setting takes falls on every draft alike too. A cell's speed-up is the median over its " +
                      "prompts of each prompt's ratio (the JSON also has the ratio of summed times, `speedup_pooled`), since bursts of noise on a shared " +
                      "machine slow a few runs several-fold.").AppendLine();
        md.AppendLine("alpha is the mean of beta = 1 - TVD(p, q) over the tested positions: the drafted positions whose acceptance test ran " +
                      "(every accepted draft and the first rejected one of a round), whose prefixes are those of the decoded sequence. " +
                      "That is the paper's definition, alpha = E_x[beta(x)] over the prefixes met while decoding. " +
                      "\"accepted / drafted\" counts accepted drafts over every drafted position, those after a rejection too, whose prefixes " +
                      "hold a rejected token and are never met while decoding; under greedy decoding it is lower than alpha. " +
                      "tau is tokens emitted per target call; the improvement is paired: for each prompt, the draft's speed-up at its best gamma over the plain draft's at its best, " +
                      "median over prompts (the two were measured on the same prompt seconds apart).").AppendLine();

        md.AppendLine("## Models").AppendLine();
        md.AppendLine("| model | parameters | hidden | layers | heads (kv) | distilled on | divergence |").AppendLine("|---|---:|---:|---:|---|---|---|");
        foreach (var (name, model) in models)
        {
            var c = model.Config;
            long parameters = ModelWeights.Allocate(c).Parameters().Sum(p => (long)p.Data.Length);
            var d = drafts.FirstOrDefault(x => x.Name == name);
            md.AppendLine($"| {name} | {parameters / 1e6:F2}M | {c.HiddenSize} | {c.Layers} | {c.Heads} ({c.KvHeads}) | {d?.DistilledOn ?? "-"} | {d?.Divergence ?? "-"} |");
        }
        md.AppendLine();

        md.AppendLine("## Verdict").AppendLine();
        foreach (string line in Verdicts()) md.AppendLine($"- {line}");
        md.AppendLine();

        md.AppendLine("## DistillSpec vs the plain draft").AppendLine();
        md.AppendLine("| task | decoding | draft | distilled on | alpha plain | alpha distilled | accepted / drafted plain | accepted / drafted distilled | tau gain (mean over gamma) | best speed-up plain | best speed-up distilled | improvement |")
          .AppendLine("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in Comparisons())
            md.AppendLine($"| {r.Task} | {TempName(r.T)} | {r.Draft.Name} | {r.Draft.DistilledOn}{(r.Draft.DistilledOn == r.Task ? "" : " (transfer)")} | {F(r.AlphaPlain, "F3")} | {F(r.Alpha, "F3")} | " +
                          $"{F(MeanAcceptance(r.Task, DraftCatalog.PlainName, r.T), "F3")} | {F(MeanAcceptance(r.Task, r.Draft.Name, r.T), "F3")} | {Pct(r.TauGain)} | " +
                          $"{F(BestSpeedup(r.Task, DraftCatalog.PlainName, r.T))}x | {F(BestSpeedup(r.Task, r.Draft.Name, r.T))}x | {Pct(r.Gain)} |");
        md.AppendLine();

        md.AppendLine("## Gamma sweeps").AppendLine();
        foreach (var (task, _) in s.Tasks)
            foreach (float t in Temperatures)
            {
                md.AppendLine($"### {task}, {TempName(t)}").AppendLine();
                md.Append("| draft | alpha | accepted / drafted |");
                foreach (int g in s.Gammas) md.Append($" tau g={g} | speed-up g={g} |");
                md.AppendLine().Append("|---|---:|---:|").Append(string.Concat(s.Gammas.Select(_ => "---:|---:|"))).AppendLine();
                foreach (var d in drafts)
                {
                    md.Append($"| {d.Name} | {F(MeanAlpha(task, d.Name, t), "F3")} | {F(MeanAcceptance(task, d.Name, t), "F3")} |");
                    foreach (int g in s.Gammas)
                    {
                        var c = Lossless(task, d.Name, t).Single(x => x.Gamma == g);
                        md.Append($" {F(c.Stats.BlockEfficiency)} | {F(c.Speedup)}x |");
                    }
                    md.AppendLine();
                }
                string plot = $"{stem}-{task}-t{t.ToString(CultureInfo.InvariantCulture)}.png";
                SpeedupPlot.Write(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(s.Output))!, plot),
                    drafts.Select(d => new PlotSeries(d.Name, [.. s.Gammas.Select(g => (double)g)],
                        [.. s.Gammas.Select(g => Lossless(task, d.Name, t).Single(x => x.Gamma == g).Stats.BlockEfficiency)],
                        [.. s.Gammas.Select(g => Lossless(task, d.Name, t).Single(x => x.Gamma == g).Speedup)])).ToList());
                md.AppendLine().AppendLine($"![tau and speed-up against gamma, {task}, {TempName(t)}]({plot})").AppendLine();
            }

        var lossy = cells.Where(c => c.Quality is not null).ToList();
        if (lossy.Count > 0)
        {
            md.AppendLine($"## Lossy speculative decoding ({lossy[0].Task}, T = 1, gamma {s.LossyGamma})").AppendLine();
            md.AppendLine($"Quality is the target's mean negative log-likelihood per generated token (lower is better) over {lossy[0].Quality!.Samples} prompts, " +
                          $"speed over the first {s.PromptCount}. Target-only sampling of the same prompts and seeds scores {F(targetOnly.Nll, "F3")}; " +
                          "the change column is the mean of the per-prompt differences from it, which cancels the prompts' own difficulty. " +
                          "Intervals are 95% (1.96 standard errors); a lossless cell's change interval should hold 0. " +
                          (s.AllLossyDrafts ? "Every draft of the task is swept." : "The drafts are the plain one and the distilled one with the best lossless speed-up at T = 1 (--lossy-drafts all sweeps every one).")).AppendLine();
            md.AppendLine("Lenience functions: the draft is accepted when u < f(p, eps) / q, with lin f = p / eps, sq f = p / eps^2 and exp f = p^eps.").AppendLine();
            md.AppendLine("| draft | f | eps | acceptance | tau | speed-up | target NLL / token | change from target-only |").AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var c in lossy)
                md.AppendLine($"| {c.Draft} | {LenienceFunctionNames.Name(c.LenienceFunction)} | {c.Lenience.ToString(CultureInfo.InvariantCulture)} | {F(c.Stats.EmpiricalAcceptance)} | " +
                              $"{F(c.Stats.BlockEfficiency)} | {F(c.Speedup)}x | {F(c.Quality!.Nll, "F3")} ± {F(c.Quality.NllHalfWidth, "F3")} | " +
                              $"{Signed(c.Quality.Delta)} ± {F(c.Quality.DeltaHalfWidth, "F3")} |");
            string plot = $"{stem}-lossy.png";
            QualityPlot.Write(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(s.Output))!, plot),
                lossy.GroupBy(c => (c.Draft, c.LenienceFunction)).Select(g => new QualitySeries(Series(g.Key), [.. g.Select(c => (double)c.Lenience)],
                    [.. g.Select(c => c.Speedup)], [.. g.Select(c => c.Quality!.Delta)], [.. g.Select(c => c.Quality!.DeltaHalfWidth)])).ToList());
            md.AppendLine().AppendLine($"![quality change against speed-up, one point per lenience]({plot})").AppendLine();
        }
        IO.AtomicFile.WriteAllText(s.Output + ".md", md.ToString());
        IO.AtomicFile.WriteAllText(s.Output + ".json", JsonSerializer.Serialize(Json(), new JsonSerializerOptions { WriteIndented = true }));
    }

    private static string Series((string Draft, Speculative.LenienceFunction Function) key) => $"{key.Draft} f_{LenienceFunctionNames.Name(key.Function)}";

    private object Json() => new
    {
        settings = new { s.Weights, tasks = s.Tasks.Select(t => new { t.Task, t.Prompts }), s.PromptCount, s.Tokens, s.Gammas, s.Lenience, LenienceFunctions = s.LenienceFunctions.Select(LenienceFunctionNames.Name), s.LossyPrompts, LossyDrafts = s.AllLossyDrafts ? "all" : "best", s.LossyGamma, s.Threads, s.Seed },
        elapsed_minutes = elapsed.TotalMinutes,
        target_only_nll = targetOnly.Nll,
        verdicts = Verdicts().ToArray(),
        cells = cells.Select(c => new
        {
            c.Task, c.Draft, c.Temperature, c.Gamma, c.Lenience, lenience_function = LenienceFunctionNames.Name(c.LenienceFunction),
            alpha = Finite(c.Stats.Alpha), accepted_over_drafted = Finite(c.Stats.EmpiricalAcceptance), tau = Finite(c.Stats.BlockEfficiency),
            tau_theory = Finite(c.Stats.TheoreticalBlockEfficiency), cost_ratio = Finite(c.Stats.CostRatio), mbsu = Finite(c.Stats.MemoryBoundSpeedup),
            speedup = Finite(c.Speedup), speedup_pooled = Finite(c.Stats.Speedup), speedup_by_prompt = c.PromptSpeedups.Select(x => Finite(x)), quality = c.Quality, tokens = c.Stats.Emitted, target_calls = c.Stats.TargetCalls,
        }),
    };

    private static double? Finite(double? x) => x is double v && double.IsFinite(v) ? v : null;
}
