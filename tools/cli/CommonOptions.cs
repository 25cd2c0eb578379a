using System.CommandLine;
using DistillSpec.Backends;
using DistillSpec.Sampling;

namespace DistillSpec.Cli;

/// <summary>llama.cpp-style options shared by the generation commands.</summary>
internal sealed class CommonOptions
{
    public Option<string> Model { get; } = new("--model", "-m") { Description = "model directory (Hugging Face layout) or GGUF file", Required = true };
    public Option<string> Prompt { get; } = new("--prompt", "-p") { Description = "prompt text", DefaultValueFactory = _ => "" };
    public Option<int> Tokens { get; } = new("--n-predict", "-n") { Description = "number of tokens to generate", DefaultValueFactory = _ => 128 };
    public Option<float> Temperature { get; } = new("--temp") { Description = "temperature; 0 = greedy", DefaultValueFactory = _ => 0.8f };
    public Option<int> TopK { get; } = new("--top-k") { Description = "keep the k most likely tokens; 0 = off", DefaultValueFactory = _ => 40 };
    public Option<float> TopP { get; } = new("--top-p") { Description = "nucleus mass to keep; 1 = off", DefaultValueFactory = _ => 0.95f };
    public Option<int> Seed { get; } = new("--seed", "-s") { Description = "random seed", DefaultValueFactory = _ => 1 };
    public Option<string> WeightFormat { get; } = new("--weight-format") { Description = $"weight storage: {Backends.WeightFormats.Expected} (block formats are ggml's, multiplied with 8-bit activations)", DefaultValueFactory = _ => "f32" };
    public Option<int> Threads { get; } = new("--threads", "-t") { Description = "CPU threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
    public Option<string> Device { get; } = DeviceOption("--device", "the target's (or the only model's) device", "auto");
    public Option<bool> CheckWeights { get; } = new("--check-weights") { Description = "scan every weight for NaN and Inf at load (one extra pass over the weights)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, Prompt, Tokens, Temperature, TopK, TopP, Seed, Threads, WeightFormat, Device, CheckWeights }) command.Options.Add(option);
        Check(Tokens, n => n >= 1, "--n-predict must be at least 1");
        Check(Threads, n => n >= 1, "--threads must be at least 1");
        Check(Temperature, t => float.IsFinite(t) && t >= 0, "--temp must be a finite number >= 0 (0 = greedy)");
        Check(TopK, k => k >= 0, "--top-k must be >= 0 (0 = off)");
        Check(TopP, p => p > 0 && p <= 1, "--top-p must be in (0, 1]");
        Check(WeightFormat, f => Backends.WeightFormats.Names.Contains(f), $"--weight-format must be {Backends.WeightFormats.Expected}");
    }

    /// <summary>A device name of the BackendRegistry, checked at parse time.</summary>
    public static Option<string> DeviceOption(string name, string what, string fallback)
    {
        var option = new Option<string>(name)
        {
            Description = $"{what}: {string.Join(", ", BackendRegistry.Names)} (auto: CUDA, else OpenCL, else cpu; ilgpu-cpu emulates the GPU kernels, slowly)",
            DefaultValueFactory = _ => fallback,
        };
        Check(option, BackendRegistry.IsKnown, $"{name} must be one of {string.Join(", ", BackendRegistry.Names)}");
        return option;
    }

    /// <summary>A usage error (exit code 1) when the option's value fails valid.</summary>
    public static void Check<T>(Option<T> option, Func<T, bool> valid, string message) =>
        option.Validators.Add(r =>
        {
            // A token that does not convert to T (-n abc, -n 99999999999) already carries the parser's
            // own usage error; reading the value here would throw out of Parse and abort the process.
            if (!TryGetValue(r, out T value)) return;
            if (!valid(value)) r.AddError($"{message}, got {(r.Tokens.Count > 0 ? string.Join(" ", r.Tokens.Select(t => t.Value)) : value)}");
        });

    private static bool TryGetValue<T>(System.CommandLine.Parsing.OptionResult r, out T value)
    {
        try
        {
            value = r.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    /// <summary>A model on device with its weights as format: --threads, --check-weights' scan, warnings on stderr.</summary>
    public ModelOptions Placement(ParseResult r, string device, Backends.WeightFormat format, Profiling.KernelProfiler? profiler) => new()
    {
        Device = device,
        Threads = r.GetValue(Threads),
        WeightFormat = format,
        Profiler = profiler,
        ScanWeights = r.GetValue(CheckWeights),
        Warning = message => Console.Error.WriteLine($"warning: {message}"),
    };

    public Backends.WeightFormat Format(ParseResult r) => Backends.WeightFormats.Parse(r.GetValue(WeightFormat)!);

    /// <summary>-n, --temp, --top-k, --top-p and --seed as the facade's options.</summary>
    public GenerationOptions Generation(ParseResult r) => new()
    {
        MaxTokens = r.GetValue(Tokens),
        Temperature = r.GetValue(Temperature),
        TopK = r.GetValue(TopK),
        TopP = r.GetValue(TopP),
        Seed = r.GetValue(Seed),
    };
}
