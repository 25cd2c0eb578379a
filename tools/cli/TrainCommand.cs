using System.CommandLine;
using DistillSpec.Data;
using DistillSpec.Models;
using DistillSpec.Training;
using Spectre.Console;

namespace DistillSpec.Cli;

/// <summary>
/// dspec train: next-token cross-entropy on a token file (made by `dspec tokenize`), from a model
/// directory (--init) or a fresh seeded model of the given shape. Writes OUT/checkpoint (a loadable
/// model directory plus optimizer state) and OUT/metrics.csv; --resume continues OUT exactly.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data", "-d") { Description = "training token file (NAME.bin with NAME.json beside it)" };
        var validation = new Option<string?>("--val") { Description = "validation token file" };
        var output = new Option<string>("--out", "-o") { Description = "run directory (checkpoint/ and metrics.csv)", Required = true };
        var init = new Option<string?>("--init") { Description = "start from this model directory instead of a fresh model" };
        var hidden = new Option<int>("--hidden") { Description = "fresh model: hidden size", DefaultValueFactory = _ => 384 };
        var layers = new Option<int>("--layers") { Description = "fresh model: layers", DefaultValueFactory = _ => 6 };
        var heads = new Option<int>("--heads") { Description = "fresh model: attention heads", DefaultValueFactory = _ => 6 };
        var kvHeads = new Option<int>("--kv-heads") { Description = "fresh model: key/value heads (GQA)", DefaultValueFactory = _ => 2 };
        var intermediate = new Option<int?>("--intermediate") { Description = "fresh model: MLP size (default 8/3 x hidden, rounded to 32)" };
        var vocab = new Option<int?>("--vocab") { Description = "fresh model: vocabulary (default: the token file's)" };
        var context = new Option<int>("--context") { Description = "fresh model: context length", DefaultValueFactory = _ => 1024 };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "directory whose tokenizer files go into checkpoints (default: the one that made the token file)" };
        var batch = new Option<int>("--batch", "-b") { Description = "sequences per step", DefaultValueFactory = _ => 8 };
        var seqLen = new Option<int>("--seq", "-T") { Description = "tokens per sequence", DefaultValueFactory = _ => 128 };
        var steps = new Option<int>("--steps") { Description = "optimizer steps", DefaultValueFactory = _ => 1000 };
        var evalEvery = new Option<int>("--eval-every") { Description = "validation loss every N steps (0 = at the end only)", DefaultValueFactory = _ => 100 };
        var evalBatches = new Option<int>("--eval-batches") { Description = "validation batches per evaluation", DefaultValueFactory = _ => 4 };
        var saveEvery = new Option<int>("--save-every") { Description = "checkpoint every N steps (0 = at the end only)", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed", "-s") { Description = "seed of initialisation and data order", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads", "-t") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var resume = new Option<bool>("--resume") { Description = "continue the run in --out from its checkpoint (its saved settings apply)" };
        var optimizer = new OptimizerOptions(learningRate: 3e-4f, warmup: 50, weightDecay: 0.1f);
        var command = new Command("train", "train a Llama-family model on a token file (next-token cross-entropy, AdamW)")
        {
            data, validation, output, init, hidden, layers, heads, kvHeads, intermediate, vocab, context, tokenizer,
            batch, seqLen, steps, evalEvery, evalBatches, saveEvery, seed, threads, resume,
        };
        optimizer.AddTo(command);
        foreach (var o in new[] { batch, seqLen, steps, evalBatches, threads, hidden, layers, heads, kvHeads, context }) CommonOptions.Check(o, n => n >= 1, $"{o.Name} must be at least 1");
        foreach (var o in new[] { intermediate, vocab }) CommonOptions.Check(o, n => n is null or >= 1, $"{o.Name} must be at least 1");
        foreach (var o in new[] { evalEvery, saveEvery }) CommonOptions.Check(o, n => n >= 0, $"{o.Name} must be >= 0");

        command.SetAction(r => CliErrors.Guard(() =>
        {
            string run = r.GetValue(output)!;
            int t = r.GetValue(threads);
            if (r.GetValue(resume))
            {
                using var resumed = LanguageModelTrainer.Resume(run, t);
                Console.Error.WriteLine($"resuming {run} at step {resumed.Step} of {resumed.Settings.Steps} (saved settings apply)");
                return Train(resumed);
            }
            string trainData = r.GetValue(data) ?? throw new ArgumentException("--data is required (unless --resume)");
            var header = TokenFile.ReadHeader(trainData);
            ModelWeights weights;
            if (r.GetValue(init) is string from) weights = HfCheckpoint.Load(from, ModelConfig.Load(from));
            else
            {
                int h = r.GetValue(hidden);
                var config = RandomModel.LlamaConfig(h, r.GetValue(layers), r.GetValue(heads), r.GetValue(kvHeads),
                    r.GetValue(intermediate) ?? (h * 8 / 3 + 31) / 32 * 32, r.GetValue(vocab) ?? header.VocabSize, r.GetValue(context)) with
                {
                    BosTokenId = header.EosId, EosTokenIds = header.EosId is int eos ? [eos] : [],
                };
                weights = Initialization.Random(config.Validate(), (ulong)r.GetValue(seed));
            }
            var settings = new TrainSettings
            {
                TrainData = trainData, ValidationData = r.GetValue(validation), Batch = r.GetValue(batch), SeqLen = r.GetValue(seqLen),
                Steps = r.GetValue(steps), EvalEvery = r.GetValue(evalEvery), EvalBatches = r.GetValue(evalBatches),
                SaveEvery = r.GetValue(saveEvery), Seed = (ulong)r.GetValue(seed), Optimizer = optimizer.Settings(r),
                TokenizerSource = r.GetValue(tokenizer) ?? r.GetValue(init),
            };
            using var trainer = LanguageModelTrainer.Create(settings, weights, run, t);
            var c = weights.Config;
            Console.Error.WriteLine($"model: {weights.Parameters().Sum(p => (long)p.Data.Length) / 1e6:F2}M parameters (hidden {c.HiddenSize}, {c.Layers} layers, " +
                                    $"{c.Heads}/{c.KvHeads} heads, mlp {c.IntermediateSize}, vocab {c.VocabSize}); {trainer.TokensPerStep} tokens and " +
                                    $"{trainer.FlopsPerStep / 1e9:F1} GFLOP per step; {trainer.Model.Threads} threads");
            return Train(trainer);
        }));
        return command;
    }

    private static int Train(LanguageModelTrainer trainer)
    {
        MetricsRow? last = null;
        TrainingProgress.Show("train", trainer.Step, trainer.Settings.Steps,
            (report, cancel) => trainer.Run(row => { last = row; report(row); }, cancel),
            row => $"loss {row.Loss:F3}" + (row.ValidationLoss is float v ? $" val {v:F3}" : ""));
        Console.Error.WriteLine($"step {trainer.Step}/{trainer.Settings.Steps}: loss {last?.Loss:F4}, checkpoint {trainer.CheckpointDirectory}, curves {trainer.MetricsPath}");
        return 0;
    }
}

/// <summary>AdamW and schedule options shared by train and distill.</summary>
internal sealed class OptimizerOptions(float learningRate, int warmup, float weightDecay)
{
    public Option<float> LearningRate { get; } = new("--lr") { Description = "peak learning rate", DefaultValueFactory = _ => learningRate };
    public Option<float> MinLearningRateRatio { get; } = new("--min-lr-ratio") { Description = "cosine floor as a fraction of --lr", DefaultValueFactory = _ => 0.1f };
    public Option<int> Warmup { get; } = new("--warmup") { Description = "linear warmup steps", DefaultValueFactory = _ => warmup };
    public Option<float> WeightDecay { get; } = new("--weight-decay") { Description = "decoupled weight decay (matrices only)", DefaultValueFactory = _ => weightDecay };
    public Option<float> Clip { get; } = new("--clip") { Description = "global gradient-norm clip (0 = off)", DefaultValueFactory = _ => 1f };
    public Option<float> Beta1 { get; } = new("--beta1") { Description = "Adam beta1", DefaultValueFactory = _ => 0.9f };
    public Option<float> Beta2 { get; } = new("--beta2") { Description = "Adam beta2", DefaultValueFactory = _ => 0.95f };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { LearningRate, MinLearningRateRatio, Warmup, WeightDecay, Clip, Beta1, Beta2 }) command.Options.Add(o);
        CommonOptions.Check(LearningRate, v => v > 0, "--lr must be positive");
        CommonOptions.Check(MinLearningRateRatio, v => v is >= 0 and <= 1, "--min-lr-ratio must lie in [0, 1]");
        CommonOptions.Check(Warmup, v => v >= 0, "--warmup must be >= 0");
        CommonOptions.Check(WeightDecay, v => v >= 0, "--weight-decay must be >= 0");
        CommonOptions.Check(Clip, v => v >= 0, "--clip must be >= 0 (0 = off)");
        CommonOptions.Check(Beta1, v => v is >= 0 and < 1, "--beta1 must lie in [0, 1)");
        CommonOptions.Check(Beta2, v => v is >= 0 and < 1, "--beta2 must lie in [0, 1)");
    }

    public OptimizerSettings Settings(ParseResult r) => new()
    {
        LearningRate = r.GetValue(LearningRate), MinLearningRateRatio = r.GetValue(MinLearningRateRatio), WarmupSteps = r.GetValue(Warmup),
        WeightDecay = r.GetValue(WeightDecay), ClipNorm = r.GetValue(Clip), Beta1 = r.GetValue(Beta1), Beta2 = r.GetValue(Beta2),
    };
}

/// <summary>
/// A progress bar (step, loss, tokens/s, ETA) on an interactive terminal; one plain line per
/// logged step when output is redirected. Ctrl+C stops after the current step and saves.
/// </summary>
internal static class TrainingProgress
{
    public static void Show(string name, int startStep, int totalSteps, Action<Action<MetricsRow>, CancellationToken> run, Func<MetricsRow, string> metrics)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler stop = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += stop;
        try
        {
            if (AnsiConsole.Profile.Capabilities.Interactive) Bar(name, startStep, totalSteps, run, metrics, cancel.Token);
            else Lines(startStep, totalSteps, run, metrics, cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= stop;
        }
        if (cancel.IsCancellationRequested) Console.Error.WriteLine("interrupted: checkpoint saved; continue with --resume");
    }

    private static string Describe(MetricsRow row, Func<MetricsRow, string> metrics) =>
        $"step {row.Step}/{row.TotalSteps} {metrics(row)}" + (row.TokensPerSecond is double tps ? $" {tps:F0} tok/s {row.GflopsPerSecond:F1} GFLOP/s" : "");

    private static void Bar(string name, int startStep, int totalSteps, Action<Action<MetricsRow>, CancellationToken> run,
        Func<MetricsRow, string> metrics, CancellationToken cancel)
    {
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(name, maxValue: totalSteps);
                task.Value = startStep;
                run(row =>
                {
                    task.Value = row.Step;
                    task.Description = Markup.Escape($"{name} {Describe(row, metrics)}");
                }, cancel);
            });
    }

    private static void Lines(int startStep, int totalSteps, Action<Action<MetricsRow>, CancellationToken> run,
        Func<MetricsRow, string> metrics, CancellationToken cancel)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int every = Math.Max(1, totalSteps / 50);
        run(row =>
        {
            bool evaluated = row.ValidationLoss is not null || row.AlphaSampled is not null;
            if (row.Step % every != 0 && !evaluated && row.Step != totalSteps) return;
            int done = row.Step - startStep;
            double eta = done > 0 ? clock.Elapsed.TotalSeconds / done * (totalSteps - row.Step) : double.NaN;
            Console.WriteLine($"{Describe(row, metrics)} eta {(double.IsNaN(eta) ? "?" : TimeSpan.FromSeconds(Math.Round(eta)).ToString())}");
        }, cancel);
    }
}
