using System.Diagnostics;
using System.Text.Json;
using DistillSpec.Data;
using DistillSpec.Models;

namespace DistillSpec.Training;

public sealed record TrainSettings
{
    public required string TrainData { get; init; }
    public string? ValidationData { get; init; }
    public int Batch { get; init; } = 8;
    public int SeqLen { get; init; } = 128;
    public int Steps { get; init; } = 1000;
    /// <summary>Validation every this many steps and after the last; 0 = only after the last.</summary>
    public int EvalEvery { get; init; } = 100;
    public int EvalBatches { get; init; } = 4;
    /// <summary>Checkpoint every this many steps and after the last; 0 = only after the last.</summary>
    public int SaveEvery { get; init; }
    public ulong Seed { get; init; } = 1;
    public OptimizerSettings Optimizer { get; init; } = new();
    /// <summary>Model directory whose tokenizer files go into checkpoints; null = the one named in the token file's header, else the byte-level tokenizer.</summary>
    public string? TokenizerSource { get; init; }

    public TrainSettings Validate()
    {
        if (Batch < 1 || SeqLen < 1 || Steps < 1) throw new ArgumentOutOfRangeException(nameof(Batch), "batch, sequence length and steps must be positive");
        if (EvalEvery < 0 || SaveEvery < 0 || EvalBatches < 1) throw new ArgumentOutOfRangeException(nameof(EvalEvery), "eval/save intervals must be >= 0 and eval batches >= 1");
        Optimizer.Validate();
        return this;
    }
}

/// <summary>
/// Next-token cross-entropy training on a token file: each step takes Batch windows of SeqLen + 1
/// tokens in seeded epoch order, one forward/backward, global-norm clipping, a warmup + cosine
/// learning rate and an AdamW update. The run directory holds checkpoint/ and metrics.csv.
/// </summary>
public sealed class LanguageModelTrainer : IDisposable
{
    private sealed record State(string Kind, int Step, DataCursor Cursor, double ElapsedSeconds, TrainSettings Settings);

    private readonly string _run;
    private readonly WindowLoader _data;
    private readonly int[]? _validation;
    private readonly int[] _window, _inputs, _targets;
    private readonly AdamW _optimizer;
    private readonly MetricsLog _log;
    private readonly string? _tokenizerSource;
    private readonly double _elapsedBefore;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private LanguageModelTrainer(string run, TrainSettings settings, ModelWeights weights, int threads, int step, DataCursor cursor,
        double elapsed, string? tokenizerSource, Action<AdamW>? loadOptimizer)
    {
        Settings = settings.Validate();
        _run = run;
        var tokens = TokenFile.Read(settings.TrainData, out var header);
        if (header.VocabSize > weights.Config.VocabSize)
            throw new ArgumentException($"{settings.TrainData} was tokenized for {header.VocabSize} ids but the model's vocabulary is {weights.Config.VocabSize}");
        _data = new WindowLoader(tokens, settings.SeqLen + 1, settings.SeqLen, settings.Seed);
        _data.Seek(cursor);
        _validation = settings.ValidationData is null ? null : TokenFile.Read(settings.ValidationData);
        if (_validation is not null && _validation.Length < settings.SeqLen + 1)
            throw new ArgumentException($"{settings.ValidationData} holds {_validation.Length} tokens; one window needs {settings.SeqLen + 1}");
        Model = new TrainingModel(weights, settings.Batch, settings.SeqLen, threads);
        _optimizer = new AdamW(weights.Config, settings.Optimizer);
        loadOptimizer?.Invoke(_optimizer);
        Step = step;
        _elapsedBefore = elapsed;
        // A token file remembers the tokenizer directory that made it; checkpoints copy its files.
        _tokenizerSource = tokenizerSource ?? (header.Tokenizer is { } made && Directory.Exists(made) ? made : null);
        _window = new int[settings.SeqLen + 1];
        _inputs = new int[settings.Batch * settings.SeqLen];
        _targets = new int[settings.Batch * settings.SeqLen];
        Directory.CreateDirectory(run);
        _log = new MetricsLog(Path.Combine(run, "metrics.csv"), loadOptimizer is null ? null : step);
        FlopsPerStep = TrainingFlops.TrainingStep(weights.Config, settings.Batch, settings.SeqLen);
    }

    public TrainSettings Settings { get; }
    public TrainingModel Model { get; }
    public int Step { get; private set; }
    public bool Done => Step >= Settings.Steps;
    public string CheckpointDirectory => Path.Combine(_run, "checkpoint");
    public string MetricsPath => _log.Path;
    public double FlopsPerStep { get; }
    public int TokensPerStep => Settings.Batch * Settings.SeqLen;

    public static LanguageModelTrainer Create(TrainSettings settings, ModelWeights initial, string runDirectory, int threads)
    {
        Checkpoint.EnsureFresh(runDirectory);
        return new(runDirectory, settings, initial, threads, 0, new DataCursor(0, 0), 0, settings.TokenizerSource, null);
    }

    public static LanguageModelTrainer Resume(string runDirectory, int threads)
    {
        string dir = Checkpoint.Resolve(Path.Combine(runDirectory, "checkpoint"))
                     ?? throw new FileNotFoundException($"no checkpoint to resume in '{runDirectory}'");
        var state = Checkpoint.ReadState<State>(dir);
        if (state.Kind != "train") throw new InvalidOperationException($"{dir} is a '{state.Kind}' checkpoint, not a 'train' one");
        var weights = HfCheckpoint.Load(dir, ModelConfig.Load(dir));
        return new LanguageModelTrainer(runDirectory, state.Settings, weights, threads, state.Step, state.Cursor, state.ElapsedSeconds,
            dir, o => o.Load(Path.Combine(dir, Checkpoint.OptimizerFile)));
    }

    /// <summary>One optimizer step, then validation and a checkpoint when they are due.</summary>
    public MetricsRow TrainStep()
    {
        if (Done) throw new InvalidOperationException($"the run has finished its {Settings.Steps} steps");
        var clock = Stopwatch.StartNew();
        int b = Settings.Batch, t = Settings.SeqLen;
        for (int i = 0; i < b; i++)
        {
            _data.Next(_window);
            _window.AsSpan(0, t).CopyTo(_inputs.AsSpan(i * t));
            _window.AsSpan(1, t).CopyTo(_targets.AsSpan(i * t));
        }
        Model.Forward(_inputs, b, t);
        float loss = Model.CrossEntropy(_targets);
        Model.ZeroGradients();
        Model.Backward();
        float norm = GradientClipping.ClipGlobalNorm(Model.Gradients!, Settings.Optimizer.ClipNorm);
        float lr = LearningRateSchedule.At(Settings.Optimizer, Step, Settings.Steps);
        _optimizer.Update(Model.Weights, Model.Gradients!, lr);
        Step++;
        double seconds = clock.Elapsed.TotalSeconds;

        float? validation = null;
        if (_validation is not null && (Step == Settings.Steps || Settings.EvalEvery > 0 && Step % Settings.EvalEvery == 0))
            validation = ValidationLoss();
        var row = new MetricsRow
        {
            Step = Step, TotalSteps = Settings.Steps, Loss = loss, ValidationLoss = validation, LearningRate = lr, GradNorm = norm,
            TokensPerSecond = TokensPerStep / seconds, GflopsPerSecond = FlopsPerStep / seconds / 1e9, ElapsedSeconds = Elapsed,
        };
        _log.Append(row);
        if (Step == Settings.Steps || Settings.SaveEvery > 0 && Step % Settings.SaveEvery == 0) Save();
        return row;
    }

    /// <summary>Mean loss over the first EvalBatches x Batch windows of the validation file (the same ones every time).</summary>
    public float ValidationLoss()
    {
        if (_validation is null) throw new InvalidOperationException("no validation file was given");
        int b = Settings.Batch, t = Settings.SeqLen;
        var loader = new WindowLoader(_validation, t + 1, t, 0, shuffle: false);
        int batches = Math.Min(Settings.EvalBatches, Math.Max(1, loader.Windows / b));
        double sum = 0;
        for (int k = 0; k < batches; k++)
        {
            for (int i = 0; i < b; i++)
            {
                loader.Next(_window);
                _window.AsSpan(0, t).CopyTo(_inputs.AsSpan(i * t));
                _window.AsSpan(1, t).CopyTo(_targets.AsSpan(i * t));
            }
            Model.Forward(_inputs, b, t);
            sum += Model.CrossEntropy(_targets, gradient: false);
        }
        return (float)(sum / batches);
    }

    public double Elapsed => _elapsedBefore + _clock.Elapsed.TotalSeconds;

    public void Save()
    {
        var state = new State("train", Step, _data.Cursor, Elapsed, Settings);
        Checkpoint.Save(CheckpointDirectory, Model.Weights, _optimizer, JsonSerializer.Serialize(state, JsonOptions), _tokenizerSource);
    }

    /// <summary>Steps until the end (or until stopAt, or cancellation, after which it saves), reporting each step.</summary>
    public void Run(Action<MetricsRow>? onStep = null, CancellationToken cancel = default, int? stopAt = null)
    {
        while (!Done && !(stopAt is int s && Step >= s))
        {
            if (cancel.IsCancellationRequested) { Save(); return; }
            var row = TrainStep();
            onStep?.Invoke(row);
        }
    }

    internal static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public void Dispose() => Model.Dispose();
}
