using System.CommandLine;
using DistillSpec.Training;

namespace DistillSpec.Cli;

/// <summary>
/// dspec distill: trains the draft (student) toward the target (teacher, frozen) with a divergence
/// on prompt + continuation sequences from a data source, logging the acceptance rate alpha of the
/// draft against the target on held-out prompts. OUT/checkpoint is the distilled draft as a
/// loadable model directory; --resume continues OUT exactly.
/// </summary>
internal static class DistillCommand
{
    public static Command Create()
    {
        var target = new Option<string>("--target") { Description = "target (teacher) model directory or GGUF file" };
        var draft = new Option<string>("--draft") { Description = "draft (student) model directory to start from" };
        var data = new Option<string>("--data", "-d") { Description = "prompts: a token file (.bin, cut into prompt + continuation windows) or a JSONL prompt set ({\"prompt\", \"reference\"})" };
        var evalData = new Option<string?>("--eval-data") { Description = "held-out prompts for alpha, same formats (default: --data, not held out)" };
        var output = new Option<string>("--out", "-o") { Description = "run directory (checkpoint/ and metrics.csv)", Required = true };
        var divergence = new Option<string>("--divergence") { Description = "fkl | rkl | jsd:BETA | tvd", DefaultValueFactory = _ => "fkl" };
        var source = new Option<string>("--source") { Description = "continuations from: fixed | teacher | student | mix:F,T,S (per-batch probabilities)", DefaultValueFactory = _ => "student" };
        var promptLength = new Option<int>("--prompt-len") { Description = "prompt tokens per sequence", DefaultValueFactory = _ => 32 };
        var continuationLength = new Option<int>("--cont-len") { Description = "continuation tokens per sequence (the positions the loss covers)", DefaultValueFactory = _ => 32 };
        var batch = new Option<int>("--batch", "-b") { Description = "sequences per step", DefaultValueFactory = _ => 8 };
        var steps = new Option<int>("--steps") { Description = "optimizer steps", DefaultValueFactory = _ => 200 };
        var studentTemp = new Option<float>("--student-temp") { Description = "sampling temperature of on-policy continuations (0 = greedy)", DefaultValueFactory = _ => 1f };
        var teacherTemp = new Option<float>("--teacher-temp") { Description = "sampling temperature of teacher continuations (0 = greedy)", DefaultValueFactory = _ => 1f };
        var kdTemp = new Option<float>("--kd-temp") { Description = "temperature of p and q inside the divergence", DefaultValueFactory = _ => 1f };
        var evalEvery = new Option<int>("--eval-every") { Description = "evaluate alpha every N steps (0 = at the end only)", DefaultValueFactory = _ => 20 };
        var evalPrompts = new Option<int>("--eval-prompts") { Description = "held-out prompts per evaluation", DefaultValueFactory = _ => 32 };
        var saveEvery = new Option<int>("--save-every") { Description = "checkpoint every N steps (0 = at the end only)", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed", "-s") { Description = "seed of data order, source choice and sampling", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads", "-t") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var resume = new Option<bool>("--resume") { Description = "continue the run in --out from its checkpoint (its saved settings apply)" };
        var optimizer = new OptimizerOptions(learningRate: 1e-4f, warmup: 10, weightDecay: 0f);
        var command = new Command("distill", "distill the draft toward the target (DistillSpec): divergence on sequences from a data source, alpha on held-out prompts")
        {
            target, draft, data, evalData, output, divergence, source, promptLength, continuationLength, batch, steps,
            studentTemp, teacherTemp, kdTemp, evalEvery, evalPrompts, saveEvery, seed, threads, resume,
        };
        optimizer.AddTo(command);
        foreach (var o in new[] { promptLength, continuationLength, batch, steps, evalPrompts, threads }) CommonOptions.Check(o, n => n >= 1, $"{o.Name} must be at least 1");
        foreach (var o in new[] { evalEvery, saveEvery }) CommonOptions.Check(o, n => n >= 0, $"{o.Name} must be >= 0");
        foreach (var o in new[] { studentTemp, teacherTemp }) CommonOptions.Check(o, v => v >= 0, $"{o.Name} must be >= 0 (0 = greedy)");
        CommonOptions.Check(kdTemp, v => v > 0, "--kd-temp must be positive");

        command.SetAction(r => CliErrors.Guard(() =>
        {
            string run = r.GetValue(output)!;
            int t = r.GetValue(threads);
            if (r.GetValue(resume))
            {
                using var resumed = Distiller.Resume(run, t);
                Console.Error.WriteLine($"resuming {run} at step {resumed.Step} of {resumed.Settings.Steps} (saved settings apply)");
                return Distill(resumed);
            }
            string Required(Option<string> o) => r.GetValue(o) ?? throw new ArgumentException($"{o.Name} is required (unless --resume)");
            var settings = new DistillSettings
            {
                TargetModel = Required(target), DraftModel = Required(draft), TrainData = Required(data), ValidationData = r.GetValue(evalData),
                Divergence = Divergence.Parse(r.GetValue(divergence)!).ToString(), Source = DataSourceMix.Parse(r.GetValue(source)!).ToString(),
                PromptLength = r.GetValue(promptLength), ContinuationLength = r.GetValue(continuationLength), Batch = r.GetValue(batch),
                Steps = r.GetValue(steps), StudentTemperature = r.GetValue(studentTemp), TeacherTemperature = r.GetValue(teacherTemp),
                KdTemperature = r.GetValue(kdTemp), EvalEvery = r.GetValue(evalEvery), EvalPrompts = r.GetValue(evalPrompts),
                SaveEvery = r.GetValue(saveEvery), Seed = (ulong)r.GetValue(seed), Optimizer = optimizer.Settings(r),
            };
            using var distiller = Distiller.Create(settings, run, t);
            if (distiller.SkippedPrompts > 0) Console.Error.WriteLine($"skipped {distiller.SkippedPrompts} prompts shorter than --prompt-len (or with references shorter than --cont-len)");
            Console.Error.WriteLine($"distilling {settings.DraftModel} toward {settings.TargetModel}: {settings.Divergence}, source {settings.Source}, " +
                                    $"{settings.Batch} x ({settings.PromptLength} + {settings.ContinuationLength}) tokens per step, {distiller.Student.Threads} threads");
            return Distill(distiller);
        }));
        return command;
    }

    private static int Distill(Distiller distiller)
    {
        MetricsRow? first = null, last = null;
        string name = distiller.Settings.Divergence;
        TrainingProgress.Show("distill", distiller.Step, distiller.Settings.Steps,
            (report, cancel) => distiller.Run(row =>
            {
                if (row.AlphaSampled is not null) (first, last) = (first ?? row, row);
                report(row);
            }, cancel),
            row => (row.Loss is float loss ? $"{name} {loss:F4}" : "baseline") +
                   (row.AlphaSampled is double a ? $" alpha(T=0) {row.AlphaGreedy:F3} alpha(T=1) {a:F3}" : ""));
        if (first is not null && last is not null)
            Console.Error.WriteLine($"alpha (T=0) {first.AlphaGreedy:F3} -> {last.AlphaGreedy:F3}, alpha (T=1) {first.AlphaSampled:F3} -> {last.AlphaSampled:F3} " +
                                    $"(steps {first.Step} -> {last.Step}); held-out {name} {first.EvalDivergence:F4} -> {last.EvalDivergence:F4}");
        Console.Error.WriteLine($"distilled draft: {distiller.CheckpointDirectory}; curves: {distiller.MetricsPath}");
        return 0;
    }
}
