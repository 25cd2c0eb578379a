using System.Diagnostics;
using System.Text.Json;
using DistillSpec.Backends;
using DistillSpec.Models;

namespace DistillSpec.Training;

public sealed record DistillSettings
{
    public required string TargetModel { get; init; }
    public required string DraftModel { get; init; }
    /// <summary>A token file (.bin) or a JSONL prompt set (.jsonl); see DistillationData.</summary>
    public required string TrainData { get; init; }
    /// <summary>Token file or JSONL prompt set of held-out evaluation prompts; null = the training data's (not held out).</summary>
    public string? ValidationData { get; init; }
    public string Divergence { get; init; } = "fkl";
    public string Source { get; init; } = "student";
    public int PromptLength { get; init; } = 32;
    public int ContinuationLength { get; init; } = 32;
    public int Batch { get; init; } = 8;
    public int Steps { get; init; } = 200;
    /// <summary>Sampling temperature of on-policy (student) continuations.</summary>
    public float StudentTemperature { get; init; } = 1f;
    /// <summary>Sampling temperature of teacher-generated continuations.</summary>
    public float TeacherTemperature { get; init; } = 1f;
    /// <summary>Temperature of p and q inside the divergence.</summary>
    public float KdTemperature { get; init; } = 1f;
    public int EvalEvery { get; init; } = 20;
    public int EvalPrompts { get; init; } = 32;
    public int SaveEvery { get; init; }
    public ulong Seed { get; init; } = 1;
    public OptimizerSettings Optimizer { get; init; } = new() { LearningRate = 1e-4f, WeightDecay = 0f };

    public DistillSettings Validate()
    {
        Training.Divergence.Parse(Divergence);
        DataSourceMix.Parse(Source);
        if (PromptLength < 1 || ContinuationLength < 1) throw new ArgumentOutOfRangeException(nameof(PromptLength), "prompt and continuation need at least one token each");
        if (Batch < 1 || Steps < 1) throw new ArgumentOutOfRangeException(nameof(Batch), "batch and steps must be positive");
        if (StudentTemperature < 0 || TeacherTemperature < 0) throw new ArgumentOutOfRangeException(nameof(StudentTemperature), "sampling temperatures must be >= 0 (0 = greedy)");
        if (!(KdTemperature > 0)) throw new ArgumentOutOfRangeException(nameof(KdTemperature), KdTemperature, "the divergence temperature must be positive");
        if (EvalEvery < 0 || SaveEvery < 0 || EvalPrompts < 1) throw new ArgumentOutOfRangeException(nameof(EvalEvery), "eval/save intervals must be >= 0 and eval prompts >= 1");
        Optimizer.Validate();
        return this;
    }
}

public sealed record DistillEvaluation(double AlphaGreedy, double AlphaSampled, double Divergence);

/// <summary>
/// DistillSpec's knowledge distillation: the draft (student, trained) learns the target's
/// (teacher, frozen) next-token distributions on sequences of a prompt plus a continuation from
/// the configured source. The loss is the mean divergence over continuation positions only, with
/// p from the teacher on the same sequences in the same step.
///
/// On-policy sampling snapshots the student into an inference Transformer (a weight copy) each
/// step it is needed: sampling then sees exactly the current weights, and the training buffers
/// are never shared with the KV-cache path.
///
/// Evaluation: on held-out prompts the TARGET generates continuations once, greedily and at
/// temperature 1 (fixed seed), and every evaluation scores the current draft on them: alpha at
/// T = 0 is the fraction of positions whose argmaxes agree, alpha at T = 1 is the mean of
/// sum_y min(p, q), and the chosen divergence on the T = 1 set.
/// </summary>
public sealed class Distiller : IDisposable
{
    private sealed record State(string Kind, int Step, ulong[] Rng, DataCursor Cursor, double ElapsedSeconds, DistillSettings Settings);

    private readonly string _run;
    private readonly WindowLoader _data;
    private readonly TrainingModel _teacher;
    private readonly Transformer _teacherSampler;
    private readonly SimdBackend _samplingBackend;
    private readonly AdamW _optimizer;
    private readonly TrainingRng _rng;
    private readonly Divergence _divergence;
    private readonly DataSourceMix _sources;
    private readonly int[] _sequences, _inputs;
    private readonly bool[] _mask;
    private readonly int[] _evalGreedy, _evalSampled;
    private readonly int _evalCount;
    private readonly MetricsLog _log;
    private readonly string _tokenizerSource;
    private readonly double _elapsedBefore;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private Distiller(string run, DistillSettings settings, ModelWeights student, int threads, int step, ulong[]? rngState, DataCursor cursor,
        double elapsed, string tokenizerSource, Action<AdamW>? loadOptimizer)
    {
        Settings = settings.Validate();
        _run = run;
        _divergence = Divergence.Parse(settings.Divergence);
        _sources = DataSourceMix.Parse(settings.Source);
        int p = settings.PromptLength, c = settings.ContinuationLength, length = p + c, b = settings.Batch;

        var targetConfig = ModelConfig.Load(settings.TargetModel);
        var targetWeights = ModelWeights.Load(settings.TargetModel, targetConfig);
        if (targetConfig.VocabSize != student.Config.VocabSize)
            throw new ArgumentException($"target vocabulary ({targetConfig.VocabSize}) and draft vocabulary ({student.Config.VocabSize}) differ; distillation compares distributions over one vocabulary");
        _samplingBackend = new SimdBackend(threads);
        _teacher = new TrainingModel(targetWeights, b, length - 1, threads, trainable: false);
        _teacherSampler = new Transformer(targetConfig, targetWeights, _samplingBackend);
        Student = new TrainingModel(student, b, length - 1, threads);
        _optimizer = new AdamW(student.Config, settings.Optimizer);
        loadOptimizer?.Invoke(_optimizer);

        bool needReference = _sources.Fixed > 0;
        var tokens = DistillationData.Load(settings.TrainData, tokenizerSource, p, c, needReference, out int skipped);
        CheckVocabulary(tokens, targetConfig.VocabSize, settings.TrainData);
        SkippedPrompts = skipped;
        _data = new WindowLoader(tokens, length, length, settings.Seed);
        _data.Seek(cursor);
        _rng = new TrainingRng(settings.Seed);
        if (rngState is not null) _rng.State = rngState;
        Step = step;
        _elapsedBefore = elapsed;
        _tokenizerSource = tokenizerSource;
        _sequences = new int[b * length];
        _inputs = new int[b * (length - 1)];
        _mask = new bool[b * (length - 1)];
        for (int i = 0; i < b; i++)
            for (int t = p - 1; t < length - 1; t++) _mask[i * (length - 1) + t] = true;

        // Held-out prompts, continued by the target once: the yardstick every evaluation reuses.
        var evalTokens = settings.ValidationData is null ? tokens
            : DistillationData.Load(settings.ValidationData, tokenizerSource, p, c, needReference: false, out _);
        CheckVocabulary(evalTokens, targetConfig.VocabSize, settings.ValidationData ?? settings.TrainData);
        var evalLoader = new WindowLoader(evalTokens, length, length, 0, shuffle: false);
        _evalCount = Math.Min(settings.EvalPrompts, evalLoader.Windows);
        _evalGreedy = new int[_evalCount * length];
        evalLoader.Next(_evalCount, _evalGreedy);
        _evalSampled = (int[])_evalGreedy.Clone();
        ContinuationSampler.Sample(_teacherSampler, _evalGreedy, _evalCount, p, c, 0f, new TrainingRng(0));
        ContinuationSampler.Sample(_teacherSampler, _evalSampled, _evalCount, p, c, 1f, new TrainingRng(settings.Seed ^ 0x5EEDE7A1UL));

        Directory.CreateDirectory(run);
        _log = new MetricsLog(Path.Combine(run, "metrics.csv"), loadOptimizer is null ? null : step);
        FlopsPerStep = TrainingFlops.TrainingStep(student.Config, b, length - 1) + TrainingFlops.Forward(targetConfig, b, length - 1);
    }

    private static void CheckVocabulary(int[] tokens, int vocab, string path)
    {
        foreach (int t in tokens)
            if ((uint)t >= (uint)vocab) throw new ArgumentException($"{path} holds token {t}, outside the models' vocabulary of {vocab}");
    }

    public DistillSettings Settings { get; }

    /// <summary>JSONL prompts left out because they were shorter than the prompt (and, for fixed data, continuation) length.</summary>
    public int SkippedPrompts { get; }
    public TrainingModel Student { get; }
    public int Step { get; private set; }
    public bool Done => Step >= Settings.Steps;
    public string CheckpointDirectory => Path.Combine(_run, "checkpoint");
    public string MetricsPath => _log.Path;
    /// <summary>Student training plus teacher forward; sampling is not counted.</summary>
    public double FlopsPerStep { get; }
    public int TokensPerStep => Settings.Batch * Settings.ContinuationLength;

    public static Distiller Create(DistillSettings settings, string runDirectory, int threads)
    {
        Checkpoint.EnsureFresh(runDirectory);
        var config = ModelConfig.Load(settings.DraftModel);
        var weights = HfCheckpoint.Load(settings.DraftModel, config);
        return new Distiller(runDirectory, settings, weights, threads, 0, null, new DataCursor(0, 0), 0, settings.DraftModel, null);
    }

    public static Distiller Resume(string runDirectory, int threads)
    {
        string dir = Checkpoint.Resolve(Path.Combine(runDirectory, "checkpoint"))
                     ?? throw new FileNotFoundException($"no checkpoint to resume in '{runDirectory}'");
        var state = Checkpoint.ReadState<State>(dir);
        if (state.Kind != "distill") throw new InvalidOperationException($"{dir} is a '{state.Kind}' checkpoint, not a 'distill' one");
        var weights = HfCheckpoint.Load(dir, ModelConfig.Load(dir));
        return new Distiller(runDirectory, state.Settings, weights, threads, state.Step, state.Rng, state.Cursor, state.ElapsedSeconds,
            dir, o => o.Load(Path.Combine(dir, Checkpoint.OptimizerFile)));
    }

    /// <summary>One distillation step, then evaluation and a checkpoint when they are due.</summary>
    public MetricsRow TrainStep()
    {
        if (Done) throw new InvalidOperationException($"the run has finished its {Settings.Steps} steps");
        var clock = Stopwatch.StartNew();
        int b = Settings.Batch, p = Settings.PromptLength, c = Settings.ContinuationLength, length = p + c;

        var source = _sources.Choose(_rng);
        _data.Next(b, _sequences);
        if (source == SequenceSource.Teacher)
            ContinuationSampler.Sample(_teacherSampler, _sequences, b, p, c, Settings.TeacherTemperature, _rng);
        else if (source == SequenceSource.Student)
        {
            using var snapshot = new Transformer(Student.Config, Student.Weights, _samplingBackend);
            ContinuationSampler.Sample(snapshot, _sequences, b, p, c, Settings.StudentTemperature, _rng);
        }
        // The last token is only ever a target, so the models read the first length - 1.
        for (int i = 0; i < b; i++) _sequences.AsSpan(i * length, length - 1).CopyTo(_inputs.AsSpan(i * (length - 1)));
        _teacher.Forward(_inputs, b, length - 1);
        Student.Forward(_inputs, b, length - 1);
        float loss = (float)_divergence.Mean(_teacher.Logits, Student.Logits, _mask, Student.Config.VocabSize,
            Settings.KdTemperature, Student.LogitGradients, Student.Threads);
        Student.ZeroGradients();
        Student.Backward();
        float norm = GradientClipping.ClipGlobalNorm(Student.Gradients!, Settings.Optimizer.ClipNorm);
        float lr = LearningRateSchedule.At(Settings.Optimizer, Step, Settings.Steps);
        _optimizer.Update(Student.Weights, Student.Gradients!, lr);
        Step++;
        double seconds = clock.Elapsed.TotalSeconds;

        DistillEvaluation? eval = Step == Settings.Steps || Settings.EvalEvery > 0 && Step % Settings.EvalEvery == 0 ? Evaluate() : null;
        var row = new MetricsRow
        {
            Step = Step, TotalSteps = Settings.Steps, Loss = loss, LearningRate = lr, GradNorm = norm,
            TokensPerSecond = TokensPerStep / seconds, GflopsPerSecond = FlopsPerStep / seconds / 1e9, ElapsedSeconds = Elapsed,
            Source = source.ToString().ToLowerInvariant(),
            AlphaGreedy = eval?.AlphaGreedy, AlphaSampled = eval?.AlphaSampled, EvalDivergence = eval?.Divergence,
        };
        _log.Append(row);
        if (Step == Settings.Steps || Settings.SaveEvery > 0 && Step % Settings.SaveEvery == 0) Save();
        return row;
    }

    /// <summary>The current draft against the target on the held-out, target-generated continuations.</summary>
    public DistillEvaluation Evaluate()
    {
        int p = Settings.PromptLength, length = p + Settings.ContinuationLength, t = length - 1, v = Student.Config.VocabSize;
        var work = new float[2 * v];
        var divergenceWork = new double[3 * v];
        double greedy = 0, sampled = 0, divergence = 0;
        int positions = 0;
        for (int start = 0; start < _evalCount; start += Settings.Batch)
        {
            int count = Math.Min(Settings.Batch, _evalCount - start);
            var inputs = new int[count * t];
            foreach (bool greedySet in new[] { true, false })
            {
                var set = greedySet ? _evalGreedy : _evalSampled;
                for (int i = 0; i < count; i++) set.AsSpan((start + i) * length, t).CopyTo(inputs.AsSpan(i * t));
                _teacher.Forward(inputs, count, t);
                Student.Forward(inputs, count, t);
                for (int i = 0; i < count; i++)
                    for (int pos = p - 1; pos < t; pos++)
                    {
                        var pl = _teacher.Logits.AsSpan((i * t + pos) * v, v);
                        var ql = Student.Logits.AsSpan((i * t + pos) * v, v);
                        if (greedySet)
                        {
                            if (Acceptance.ArgmaxAgrees(pl, ql)) greedy++;
                            positions++;
                        }
                        else
                        {
                            sampled += Acceptance.Overlap(pl, ql, work);
                            divergence += _divergence.Compute(pl, ql, Settings.KdTemperature, Span<float>.Empty, 1f, divergenceWork);
                        }
                    }
            }
        }
        return new DistillEvaluation(greedy / positions, sampled / positions, divergence / positions);
    }

    /// <summary>Evaluates the undistilled draft and logs it as step 0, the start of the alpha curve.</summary>
    public MetricsRow LogBaseline()
    {
        var eval = Evaluate();
        var row = new MetricsRow
        {
            Step = 0, TotalSteps = Settings.Steps, ElapsedSeconds = Elapsed,
            AlphaGreedy = eval.AlphaGreedy, AlphaSampled = eval.AlphaSampled, EvalDivergence = eval.Divergence,
        };
        _log.Append(row);
        return row;
    }

    public double Elapsed => _elapsedBefore + _clock.Elapsed.TotalSeconds;

    public void Save()
    {
        var state = new State("distill", Step, _rng.State, _data.Cursor, Elapsed, Settings);
        Checkpoint.Save(CheckpointDirectory, Student.Weights, _optimizer, JsonSerializer.Serialize(state, LanguageModelTrainer.JsonOptions), _tokenizerSource);
    }

    /// <summary>Steps until the end (or until stopAt, or cancellation, after which it saves), reporting each step.</summary>
    public void Run(Action<MetricsRow>? onStep = null, CancellationToken cancel = default, int? stopAt = null)
    {
        if (Step == 0)
        {
            var baseline = LogBaseline();
            onStep?.Invoke(baseline);
        }
        while (!Done && !(stopAt is int s && Step >= s))
        {
            if (cancel.IsCancellationRequested) { Save(); return; }
            var row = TrainStep();
            onStep?.Invoke(row);
        }
    }

    public void Dispose()
    {
        Student.Dispose();
        _teacher.Dispose();
        _teacherSampler.Dispose();
        _samplingBackend.Dispose();
    }
}
