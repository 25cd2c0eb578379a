using DistillSpec.Tokenization;
using System.CommandLine;
using System.Diagnostics;
using DistillSpec.Backends;
using DistillSpec.Models;
using Spectre.Console;

namespace DistillSpec.Cli.Reproduce;

/// <summary>
/// Regenerates the DistillSpec reproduction report from the models in weights/: plain vs distilled
/// drafts per task, greedy and T = 1, over a gamma sweep; transfer across tasks; a lossy sweep.
/// </summary>
internal static class ReproduceCommand
{
    public static Command Create()
    {
        var weights = new Option<string>("--weights") { Description = "directory with target/, draft-plain/ and draft-TASK-DIVERGENCE/ models", DefaultValueFactory = _ => "weights" };
        var tasks = new Option<string>("--tasks") { Description = "TASK=PROMPTS.jsonl pairs", DefaultValueFactory = _ => "code=data/prompts/code.jsonl,prose=data/prompts/prose.jsonl" };
        var promptCount = new Option<int>("--prompts") { Description = "prompts per task (the first N of each file)", DefaultValueFactory = _ => 32 };
        var tokens = new Option<int>("--n-predict", "-n") { Description = "tokens generated per prompt", DefaultValueFactory = _ => 48 };
        var gammas = new Option<string>("--gammas") { Description = "draft lengths to sweep", DefaultValueFactory = _ => "1,3,5" };
        var lenience = new Option<string>("--lenience") { Description = "lenience values of the lossy sweep", DefaultValueFactory = _ => "1,0.5,0.2,0.1" };
        var lossyPrompts = new Option<int>("--lossy-prompts") { Description = "prompts whose output quality each lossy cell scores (its speed uses the first --prompts)", DefaultValueFactory = _ => 128 };
        var lenienceFunctions = new Option<string>("--lenience-fn") { Description = $"lenience functions of the lossy sweep ({LenienceFunctionNames.Choices})", DefaultValueFactory = _ => "lin,sq,exp" };
        var lossyDrafts = new Option<string>("--lossy-drafts") { Description = "drafts of the lossy sweep: best (the plain draft and the distilled one with the best lossless speed-up at T = 1) or all", DefaultValueFactory = _ => "best" };
        lossyDrafts.AcceptOnlyFromAmong("best", "all");
        var lossyGamma = new Option<int>("--lossy-gamma") { Description = "gamma of the lossy sweep", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads", "-t") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seed = new Option<int>("--seed", "-s") { Description = "sampling seed", DefaultValueFactory = _ => 1 };
        var draftFormat = new Option<string>("--weight-format-draft") { Description = $"the drafts' weight storage: {WeightFormats.Expected} (the target stays f32)", DefaultValueFactory = _ => "f32" };
        var output = new Option<string>("--out", "-o") { Description = "report path prefix (.md, .json and -*.png are written)", DefaultValueFactory = _ => "reports/distillspec" };
        var command = new Command("reproduce", "regenerate the DistillSpec reproduction report (markdown, JSON, PNG plots) from the shipped models")
        {
            weights, tasks, promptCount, tokens, gammas, lenience, lenienceFunctions, lossyPrompts, lossyDrafts, lossyGamma, threads, seed, draftFormat, output,
        };
        command.SetAction(r => CliErrors.Guard(() => Run(new Settings(
            r.GetValue(weights)!, ParseTasks(r.GetValue(tasks)!), r.GetValue(promptCount), r.GetValue(tokens),
            NumberList.Ints(r.GetValue(gammas)!, "--gammas", 1, Speculative.SpeculativeOptions.MaxDraft), NumberList.Floats(r.GetValue(lenience)!, "--lenience"),
            LenienceFunctionNames.ParseList(r.GetValue(lenienceFunctions)!, "--lenience-fn"), Math.Max(r.GetValue(lossyPrompts), r.GetValue(promptCount)),
            r.GetValue(lossyDrafts) == "all", r.GetValue(lossyGamma), r.GetValue(threads), r.GetValue(seed), WeightFormats.Parse(r.GetValue(draftFormat)!), r.GetValue(output)!))));
        return command;
    }

    internal sealed record Settings(string Weights, List<(string Task, string Prompts)> Tasks, int PromptCount, int Tokens,
        int[] Gammas, float[] Lenience, Speculative.LenienceFunction[] LenienceFunctions, int LossyPrompts, bool AllLossyDrafts, int LossyGamma, int Threads, int Seed,
        WeightFormat DraftFormat, string Output);

    /// <summary>The plain draft and the distilled draft with the best lossless speed-up at T = 1 on the task: the comparison the lossy figure is about.</summary>
    private static List<DraftEntry> BestLossyPair(List<DraftEntry> candidates, List<Cell> cells, string task)
    {
        var distilled = candidates.Where(d => !d.Plain).ToList();
        if (distilled.Count == 0) return candidates;
        var best = distilled.MaxBy(d => cells.Where(c => c.Task == task && c.Draft == d.Name && c.Temperature == 1f).Max(c => c.Speedup))!;
        return [candidates.First(d => d.Plain), best];
    }

    private static List<(string, string)> ParseTasks(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(pair =>
        {
            var kv = pair.Split('=', 2);
            return kv.Length == 2 ? (kv[0], kv[1]) : throw new FormatException($"--tasks: '{pair}' is not TASK=PROMPTS.jsonl");
        }).ToList();

    private static int Run(Settings s)
    {
        var clock = Stopwatch.StartNew();
        var drafts = DraftCatalog.Discover(s.Weights);
        using var backend = new SimdBackend(s.Threads);
        // A draft step is a few small matrices: one thread beats paying a cross-core hand-off per op.
        // Draft and target never run at the same time, so the two backends do not compete for cores.
        using var draftBackend = new SimdBackend(1);
        using var target = LanguageModel.Load(Path.Combine(s.Weights, "target"), backend);
        var loaded = drafts.ToDictionary(d => d.Name, d => LanguageModel.Load(d.Directory, draftBackend, s.DraftFormat));
        try
        {
            foreach (var draft in loaded.Values) Speculative.VocabularyCheck.EnsureShared(target, draft);
            // The prompt files list one prompt per document before any document's second (make-prompts), so the
            // first N span the held-out documents.
            var prompts = s.Tasks.ToDictionary(t => t.Task, t => PromptFile.Read(t.Prompts).Take(s.PromptCount)
                .Select(text => target.Tokenizer.EncodePrompt(text)).ToList());
            string lossyTask = s.Tasks[0].Task;
            var lossyPrompts = PromptFile.Read(s.Tasks[0].Prompts).Take(s.LossyPrompts).Select(text => target.Tokenizer.EncodePrompt(text)).ToList();
            var measure = new Measurement(target, s.Tokens, s.Seed);

            var cells = new List<Cell>();
            var lossyCandidates = drafts.Where(d => d.Plain || d.DistilledOn == lossyTask).ToList();
            int lossyDraftCount = s.AllLossyDrafts ? lossyCandidates.Count : Math.Min(lossyCandidates.Count, 2);
            int total = s.Tasks.Count * 2 * drafts.Count * s.Gammas.Length + lossyDraftCount * s.LenienceFunctions.Length * s.Lenience.Length;
            AnsiConsole.Progress().Start(progress =>
            {
                var bar = progress.AddTask("reproduce", maxValue: total);
                var all = drafts.Select(d => (d.Name, loaded[d.Name].Transformer)).ToList();
                foreach (var (task, _) in s.Tasks)
                    foreach (float temperature in new[] { 0f, 1f })
                        foreach (int gamma in s.Gammas)
                        {
                            cells.AddRange(measure.Run(task, all, prompts[task], temperature, gamma, 1f, Speculative.LenienceFunction.Linear));
                            bar.Increment(all.Count);
                        }
                // Lossy SD on the first task at T = 1, where lenience changes decisions (greedy ones are one-hot).
                // At eps = 1 every lenience function is the lossless rule, so that cell is measured once
                // per draft and stands in each function's series.
                foreach (var draft in s.AllLossyDrafts ? lossyCandidates : BestLossyPair(lossyCandidates, cells, lossyTask))
                {
                    Cell? lossless = null;
                    foreach (var function in s.LenienceFunctions)
                        foreach (float eps in s.Lenience)
                        {
                            cells.Add(eps == 1f && lossless is not null ? lossless with { LenienceFunction = function }
                                : measure.Run($"{lossyTask} (lossy)", [(draft.Name, loaded[draft.Name].Transformer)], prompts[lossyTask], 1f, s.LossyGamma, eps,
                                    function, lossyPrompts)[0]);
                            if (eps == 1f) lossless ??= cells[^1];
                            bar.Increment(1);
                        }
                }
            });
            var models = new List<(string Name, LanguageModel Model)> { ("target", target) };
            models.AddRange(drafts.Select(d => (d.Name, loaded[d.Name])));
            var targetOnly = measure.TargetOnly(lossyPrompts, 1f);
            var report = new Report(s, drafts, models, cells, (targetOnly.Average(), targetOnly.Count), clock.Elapsed);
            report.Write();
            AnsiConsole.MarkupLineInterpolated($"wrote {s.Output}.md, {s.Output}.json and plots in {clock.Elapsed.TotalMinutes:F1} min");
            foreach (string line in report.Verdicts()) AnsiConsole.WriteLine(line);
            return 0;
        }
        finally
        {
            foreach (var model in loaded.Values) model.Dispose();
        }
    }
}
